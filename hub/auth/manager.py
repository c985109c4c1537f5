"""The AuthManager: users, sign-in, tokens and API keys, wired into the hub as ``hub.auth``.

Users and API keys are few and read on every request, so they live in memory, written through to the
database; ``authenticate`` never touches the database. Several nodes sharing a PostgreSQL share the signing
secret and re-read users and keys every ``SYNC_INTERVAL`` seconds, so a user made on one node can sign in on
another, and a user disabled on one is refused by the others within that time (at once on its own node).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NoReturn

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.audit import AuditLog
from hub.auth.errors import (
    AuthConflict,
    InvalidCredentials,
    InvalidToken,
    InvalidUserInput,
    LastPlatformAdmin,
    UsernameTaken,
)
from hub.auth.passwords import Passwords
from hub.auth.rate_limit import LoginRateLimiter
from hub.auth.scope import Caller, Forbidden, NotFound, Role
from hub.auth.tokens import (
    API_KEY_VISIBLE,
    AccessTokens,
    TokenPair,
    digest,
    is_api_key,
    load_secret,
    new_api_key_secret,
    new_refresh_token,
)
from hub.auth.users import ApiKey, User, check_name, check_password, check_role, check_username, normalize_username
from hub.core import Hub
from hub.ids import new_id
from hub.store.database import Database
from hub.store.models import ApiKeyRow, RefreshTokenRow, UserRow

_LOGGER = logging.getLogger(__name__)

SYNC_INTERVAL = 30.0  # seconds between re-reads of users and API keys (other nodes' changes)
API_KEY_TOUCH_INTERVAL = 60.0  # last_used_at is written at most this often per key
# A refresh token rotated this recently may be presented once more without counting as theft: two browser tabs
# refreshing with the same cookie at the same moment are not an attacker.
REFRESH_REUSE_GRACE = 10.0


class AuthManager:
    """Everything about who may sign in and what they present afterwards; see docs/auth.md."""

    def __init__(self, hub: Hub, database: Database, config: Mapping[str, Any] | None = None) -> None:
        config = config or {}
        self._hub = hub
        self._database = database
        self.access_ttl = float(config.get("access_token_minutes", 15)) * 60
        self.refresh_ttl = float(config.get("refresh_token_days", 30)) * 86400
        self.reuse_grace = REFRESH_REUSE_GRACE
        self.rate_limiter = LoginRateLimiter(
            int(config.get("login_attempts", 5)), float(config.get("login_window_minutes", 5)) * 60
        )
        self.audit = AuditLog(database)
        self.passwords = Passwords()
        self._tokens: AccessTokens | None = None
        self._users: dict[str, User] = {}
        self._user_ids: dict[str, str] = {}  # username -> id
        self._hashes: dict[str, str] = {}  # user id -> argon2 hash; never leaves this object
        self._keys: dict[str, ApiKey] = {}  # id -> key, revoked ones too
        self._key_ids: dict[str, str] = {}  # SHA-256 of the secret -> id, active keys only
        self._writes = 0  # local changes; a re-read that overlapped one is dropped
        self._user_lock = asyncio.Lock()
        self._sync_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------------------ life cycle

    async def load(self) -> None:
        """Read the secret, the users and the API keys; start re-reading them for other nodes' changes."""
        self._tokens = AccessTokens(await load_secret(self._database), self.access_ttl)
        await self._reload()
        self._sync_task = self._hub.create_background_task(self._sync_loop(), "auth sync")

    async def stop(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
            self._sync_task = None
        self.passwords.close()

    async def _reload(self) -> None:
        writes = self._writes
        async with self._database.session() as session:
            user_rows = (await session.scalars(select(UserRow))).all()
            key_rows = (await session.scalars(select(ApiKeyRow))).all()
        if writes != self._writes:
            return  # a local change landed meanwhile: this snapshot may predate it; the next one will not
        self._users = {row.id: User.from_row(row) for row in user_rows}
        self._user_ids = {row.username: row.id for row in user_rows}
        self._hashes = {row.id: row.password_hash for row in user_rows}
        keys = {row.id: ApiKey.from_row(row) for row in key_rows}
        for key_id, key in keys.items():  # keep this node's newer last_used_at
            known = self._keys.get(key_id)
            if known is not None and (known.last_used_at or 0) > (key.last_used_at or 0):
                keys[key_id] = replace(key, last_used_at=known.last_used_at)
        self._keys = keys
        self._key_ids = {row.key_hash: row.id for row in key_rows if row.revoked_at is None}

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL)
            try:
                await self._reload()
            except SQLAlchemyError:
                _LOGGER.warning("Could not re-read users and API keys; keeping the ones in memory", exc_info=True)

    @property
    def _access(self) -> AccessTokens:
        if self._tokens is None:
            raise RuntimeError("AuthManager.load() has not run")
        return self._tokens

    # ------------------------------------------------------------------------------------- authentication

    def authenticate(self, bearer: str, *, via: str = "token") -> Caller:
        """The caller behind an access token or API key, from memory; InvalidToken if it is not valid now.

        A token carries who its user is, not what they may do: role and tenant come from the user as they are
        now, so a demotion or a disabled account takes effect on the very next request.
        """
        if is_api_key(bearer):
            return self._authenticate_key(bearer)
        claims = self._access.decode(bearer)
        user = self._users.get(claims["sub"])
        if user is None or user.disabled:
            raise InvalidToken()
        return user.caller(via)

    def _authenticate_key(self, secret: str) -> Caller:
        key_id = self._key_ids.get(digest(secret))
        key = self._keys.get(key_id) if key_id is not None else None
        if key is None or key.revoked_at is not None:
            raise InvalidToken("unknown or revoked API key")
        now = time.time()
        if key.last_used_at is None or now - key.last_used_at >= API_KEY_TOUCH_INTERVAL:
            self._keys[key.id] = key = replace(key, last_used_at=now)
            self._hub.create_task(self._save_key_use(key.id, now), "api key last used")
        return key.caller()

    async def _save_key_use(self, key_id: str, when: float) -> None:
        try:
            async with self._database.session() as session:
                await session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=when))
                await session.commit()
        except SQLAlchemyError:
            _LOGGER.warning("Could not record the use of API key %s", key_id, exc_info=True)

    async def login(self, username: str, password: str, *, address: str | None = None) -> TokenPair:
        """Check a username and password; InvalidCredentials, or RateLimited before even checking."""
        name = normalize_username(username) if isinstance(username, str) else ""
        stamp = self.rate_limiter.attempt(name, address)
        user_id = self._user_ids.get(name)
        user = self._users.get(user_id) if user_id is not None else None
        if user is None or not isinstance(password, str):
            await self.passwords.verify_nobody(password if isinstance(password, str) else "")
            await self._failed(name, user, address, "unknown user")
        matches, needs_rehash = await self.passwords.verify(self._hashes[user.id], password)
        if not matches:
            await self._failed(name, user, address, "wrong password")
        if user.disabled:
            await self._failed(name, user, address, "disabled")
        self.rate_limiter.succeeded(name, address, stamp)
        now = time.time()
        values: dict[str, Any] = {"last_login": now}
        if needs_rehash:
            values["password_hash"] = self._hashes[user.id] = await self.passwords.hash(password)
        async with self._database.session() as session:
            await session.execute(update(UserRow).where(UserRow.id == user.id).values(**values))
            pair = self._issue(session, user, address)
            await session.commit()
        self._remember(replace(user, last_login=now))
        await self.audit.record(user.caller(), "login", address=address)
        return pair

    async def _failed(self, name: str, user: User | None, address: str | None, reason: str) -> NoReturn:
        caller = user.caller() if user is not None else None
        details = {"username": name[:64], "reason": reason}
        await self.audit.record(caller, "login_failed", details=details, address=address)
        raise InvalidCredentials()

    def _issue(self, session: AsyncSession, user: User, address: str | None) -> TokenPair:
        """A new access token and refresh token (added to ``session``, committed by the caller)."""
        refresh_token = new_refresh_token()
        now = time.time()
        session.add(
            RefreshTokenRow(
                id=new_id(),
                token_hash=digest(refresh_token),
                user_id=user.id,
                created_at=now,
                expires_at=now + self.refresh_ttl,
                last_address=address[:64] if address else None,
            )
        )
        access_token = self._access.issue(user.id, user.tenant_id, user.role.value, user.platform_admin)
        return TokenPair(access_token, refresh_token, int(self.access_ttl))

    async def refresh(self, refresh_token: str, *, address: str | None = None) -> TokenPair:
        """A new pair for a valid refresh token, which is revoked (rotation).

        A refresh token presented again after its rotation (past a few seconds of grace) means two parties hold
        it: every refresh token of that user is revoked and both must sign in again.
        """
        if not isinstance(refresh_token, str) or not refresh_token:
            raise InvalidToken()
        now = time.time()
        token_hash = digest(refresh_token)
        async with self._database.session() as session:
            # Write first: of two concurrent refreshes (on any node) exactly one wins the rotation, and SQLite
            # takes its write lock up front instead of failing to upgrade a read.
            user_id = await session.scalar(
                update(RefreshTokenRow)
                .where(
                    RefreshTokenRow.token_hash == token_hash,
                    RefreshTokenRow.revoked_at.is_(None),
                    RefreshTokenRow.expires_at > now,
                )
                .values(revoked_at=now, revoked_reason="rotated")
                .returning(RefreshTokenRow.user_id)
            )
            if user_id is None:
                await self._check_reuse(session, token_hash, now, address)  # raises unless within the grace
                user_id = await session.scalar(
                    select(RefreshTokenRow.user_id).where(RefreshTokenRow.token_hash == token_hash)
                )
            user = self._users.get(user_id or "")
            if user is None or user.disabled:
                raise InvalidToken()
            pair = self._issue(session, user, address)
            await session.commit()
        return pair

    async def _check_reuse(self, session: AsyncSession, token_hash: str, now: float, address: str | None) -> None:
        """A refresh token that could not be rotated: unknown, expired, revoked, or rotated moments ago."""
        row = await session.scalar(select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash))
        if row is None or row.expires_at <= now:
            raise InvalidToken("unknown or expired refresh token")
        if row.revoked_reason != "rotated":  # logged out, or revoked with every session of its user
            raise InvalidToken("this refresh token was revoked: sign in again")
        user = self._users.get(row.user_id)
        if user is None or user.disabled:
            raise InvalidToken()
        if now - (row.revoked_at or 0.0) > self.reuse_grace:
            await session.rollback()
            await self._stolen(user, address)

    async def _stolen(self, user: User, address: str | None) -> NoReturn:
        """A rotated refresh token came back: two parties hold it, and we cannot tell which is the thief."""
        await self._revoke_all(user.id, "reuse")
        await self.audit.record(user.caller(), "refresh_reuse", address=address)
        _LOGGER.warning("A used refresh token of %s was presented again: all their sessions end", user.username)
        raise InvalidToken("this refresh token was already used: sign in again")

    async def logout(self, refresh_token: str, *, address: str | None = None) -> None:
        """Revoke one refresh token (the access token dies by itself within minutes)."""
        if not isinstance(refresh_token, str) or not refresh_token:
            return
        async with self._database.session() as session:
            user_id = await session.scalar(
                update(RefreshTokenRow)
                .where(RefreshTokenRow.token_hash == digest(refresh_token), RefreshTokenRow.revoked_at.is_(None))
                .values(revoked_at=time.time(), revoked_reason="logout")
                .returning(RefreshTokenRow.user_id)
            )
            await session.commit()
        user = self._users.get(user_id) if user_id is not None else None
        if user is not None:
            await self.audit.record(user.caller(), "logout", address=address)

    async def _revoke_all(self, user_id: str, reason: str) -> None:
        async with self._database.session() as session:
            await session.execute(
                update(RefreshTokenRow)
                .where(RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None))
                .values(revoked_at=time.time(), revoked_reason=reason)
            )
            await session.commit()

    # ---------------------------------------------------------------------------------------------- users

    @property
    def has_users(self) -> bool:
        """False until the first user exists: the hub is waiting for onboarding."""
        return bool(self._users)

    def users(self, tenant_id: str | None = None) -> list[User]:
        """Every user, or a tenant's; by username."""
        users = (user for user in self._users.values() if tenant_id is None or user.tenant_id == tenant_id)
        return sorted(users, key=lambda user: user.username)

    def user(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def user_by_username(self, username: str) -> User | None:
        user_id = self._user_ids.get(normalize_username(username))
        return self._users.get(user_id) if user_id is not None else None

    async def create_user(
        self,
        username: str,
        password: str,
        *,
        tenant_id: str | None,
        role: Role | str = Role.VIEWER,
        name: str | None = None,
        platform_admin: bool = False,
    ) -> User:
        """A new user. Needs a tenant unless a platform administrator; usernames are unique, ignoring case."""
        username = check_username(username)
        password = check_password(password)
        checked_role = check_role(role)
        display_name = check_name(name) if name is not None else username
        if tenant_id is None and not platform_admin:
            raise InvalidUserInput({"tenant_id": "a user belongs to a tenant unless a platform administrator"})
        if tenant_id is not None and self._hub.tenants.get(tenant_id) is None:
            raise InvalidUserInput({"tenant_id": f"no tenant {tenant_id!r}"})
        password_hash = await self.passwords.hash(password)
        async with self._user_lock:
            if username in self._user_ids:
                raise UsernameTaken(username)
            user = User(
                new_id(), username, display_name, tenant_id, checked_role, platform_admin, False, time.time(), None
            )
            row = UserRow(
                id=user.id,
                username=user.username,
                name=user.name,
                password_hash=password_hash,
                tenant_id=user.tenant_id,
                role=user.role.value,
                platform_admin=user.platform_admin,
                disabled=False,
                created_at=user.created_at,
                last_login=None,
            )
            try:
                async with self._database.session() as session:
                    session.add(row)
                    await session.commit()
            except IntegrityError:  # another node took the name meanwhile
                raise UsernameTaken(username) from None
            self._hashes[user.id] = password_hash
            self._remember(user)
        return user

    async def onboard(self, username: str, password: str, *, name: str | None = None) -> User:
        """The first platform administrator, only while there is no user at all (AuthConflict after)."""
        async with self._user_lock:
            if self._users:
                raise AuthConflict("the hub already has users: sign in instead")
            async with self._database.session() as session:
                if await session.scalar(select(UserRow.id).limit(1)) is not None:
                    raise AuthConflict("the hub already has users: sign in instead")
        return await self.create_user(
            username, password, tenant_id=None, role=Role.OWNER, name=name, platform_admin=True
        )

    async def update_user(
        self,
        user_id: str,
        *,
        role: Role | str | None = None,
        name: str | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        platform_admin: bool | None = None,
    ) -> User:
        """Change a user. Disabling or a new password ends every session of theirs (refresh tokens revoked);
        a role change applies to their very next request."""
        user = self._users.get(user_id)
        if user is None:
            raise NotFound("user", user_id)
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = check_role(role)
        if name is not None:
            values["name"] = check_name(name)
        if disabled is not None:
            values["disabled"] = bool(disabled)
        if platform_admin is not None:
            if not platform_admin and user.tenant_id is None:
                raise InvalidUserInput({"platform_admin": "a user without a tenant must stay a platform administrator"})
            values["platform_admin"] = bool(platform_admin)
        password_hash = await self.passwords.hash(check_password(password)) if password is not None else None
        async with self._user_lock:
            user = self._users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            changed = replace(user, **values)
            if user.platform_admin and not user.disabled and not (changed.platform_admin and not changed.disabled):
                self._check_not_last_admin(user_id)
            row_values = {key: value.value if isinstance(value, Role) else value for key, value in values.items()}
            if password_hash is not None:
                row_values["password_hash"] = password_hash
            if row_values:
                async with self._database.session() as session:
                    await session.execute(update(UserRow).where(UserRow.id == user_id).values(**row_values))
                    await session.commit()
            if password_hash is not None:
                self._hashes[user_id] = password_hash
            self._remember(changed)
        if (changed.disabled and not user.disabled) or password_hash is not None:
            await self._revoke_all(user_id, "user")
        return changed

    async def delete_user(self, user_id: str) -> None:
        """Remove a user; their refresh tokens go with them and their access tokens stop working at once."""
        async with self._user_lock:
            user = self._users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            if user.platform_admin and not user.disabled:
                self._check_not_last_admin(user_id)
            async with self._database.session() as session:
                await session.execute(delete(RefreshTokenRow).where(RefreshTokenRow.user_id == user_id))
                await session.execute(delete(UserRow).where(UserRow.id == user_id))
                await session.commit()
            self._writes += 1
            del self._users[user_id]
            self._hashes.pop(user_id, None)
            if self._user_ids.get(user.username) == user_id:
                del self._user_ids[user.username]

    def _check_not_last_admin(self, user_id: str) -> None:
        others = [
            user for user in self._users.values() if user.platform_admin and not user.disabled and user.id != user_id
        ]
        if not others:
            raise LastPlatformAdmin()

    def _remember(self, user: User) -> None:
        self._writes += 1
        self._users[user.id] = user
        self._user_ids[user.username] = user.id

    # ------------------------------------------------------------------------------------------- API keys

    def api_keys(self, tenant_id: str | None = None, *, include_revoked: bool = False) -> list[ApiKey]:
        """Every key, or a tenant's, newest first; revoked ones only when asked."""
        return sorted(
            (
                key
                for key in self._keys.values()
                if (tenant_id is None or key.tenant_id == tenant_id) and (include_revoked or key.revoked_at is None)
            ),
            key=lambda key: key.created_at,
            reverse=True,
        )

    def api_key(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    async def create_api_key(
        self,
        name: str,
        *,
        tenant_id: str | None,
        role: Role | str,
        created_by: str | None,
        platform_admin: bool = False,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is shown this once and never stored.

        A key never has more power than the user creating it: a role at most theirs, their own tenant unless
        they are a platform administrator, and platform-wide only if they are one. ``created_by`` None is
        the hub itself (the command line).
        """
        checked_name = check_name(name)
        checked_role = check_role(role)
        if tenant_id is None and not platform_admin:
            raise InvalidUserInput({"tenant_id": "an API key belongs to a tenant unless platform-wide"})
        if tenant_id is not None and self._hub.tenants.get(tenant_id) is None:
            raise InvalidUserInput({"tenant_id": f"no tenant {tenant_id!r}"})
        if created_by is not None:
            creator = self._users.get(created_by)
            if creator is None:
                raise InvalidUserInput({"created_by": f"no user {created_by!r}"})
            if not creator.platform_admin:
                if platform_admin:
                    raise Forbidden("only a platform administrator can make a platform-wide API key")
                if tenant_id != creator.tenant_id:
                    raise NotFound("tenant", str(tenant_id))
                if checked_role.rank > creator.role.rank:
                    raise Forbidden(f"an API key cannot have a higher role than yours ({creator.role})")
        secret = new_api_key_secret()
        key = ApiKey(
            new_id(),
            checked_name,
            secret[:API_KEY_VISIBLE],
            tenant_id,
            checked_role,
            platform_admin,
            created_by,
            time.time(),
            None,
            None,
        )
        key_hash = digest(secret)
        async with self._database.session() as session:
            session.add(
                ApiKeyRow(
                    id=key.id,
                    name=key.name,
                    prefix=key.prefix,
                    key_hash=key_hash,
                    tenant_id=key.tenant_id,
                    role=key.role.value,
                    platform_admin=key.platform_admin,
                    created_by=key.created_by,
                    created_at=key.created_at,
                )
            )
            await session.commit()
        self._writes += 1
        self._keys[key.id] = key
        self._key_ids[key_hash] = key.id
        return key, secret

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key: refused from the next request on."""
        key = self._keys.get(key_id)
        if key is None:
            raise NotFound("API key", key_id)
        if key.revoked_at is not None:
            return key
        now = time.time()
        async with self._database.session() as session:
            await session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(revoked_at=now))
            await session.commit()
        self._writes += 1
        self._keys[key_id] = key = replace(key, revoked_at=now)
        self._key_ids = {key_hash: kid for key_hash, kid in self._key_ids.items() if kid != key_id}
        return key
