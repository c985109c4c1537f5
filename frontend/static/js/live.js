// One WebSocket connection per page to /api/websocket, speaking Home Assistant's protocol: auth_required ->
// {"type": "auth", "access_token"} -> auth_ok, then commands with ids. The session cookies are HttpOnly, so the
// access token comes from POST /api/auth/ws-token. Subscriptions are replayed after a reconnect (with back-off),
// and the header's "Live" badge says where the connection stands.

import { api } from "./api.js";
import { t } from "./i18n.js";

const RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];

class Connection {
  constructor() {
    this.socket = null;
    this.nextId = 1;
    this.subscriptions = []; // {message, callback, id}
    this.pending = new Map(); // id -> {resolve, reject}
    this.failures = 0;
    this.started = false;
  }

  /** Subscribe (subscribe_entities, subscribe_events...); callback gets each event's payload. */
  subscribe(message, callback) {
    const subscription = { message, callback, id: null };
    this.subscriptions.push(subscription);
    if (this.ready) this.sendSubscription(subscription);
    this.start();
    return subscription;
  }

  /** A one-off command (call_service): resolves with its result, rejects with its error. */
  command(message) {
    this.start();
    return new Promise((resolve, reject) => {
      const send = () => {
        const id = this.nextId++;
        this.pending.set(id, { resolve, reject });
        this.socket.send(JSON.stringify({ ...message, id }));
      };
      if (this.ready) send();
      else this.waiting = [...(this.waiting || []), send];
    });
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.open();
  }

  async open() {
    setLive("connecting");
    let token;
    try {
      token = (await api("POST", "/api/auth/ws-token")).access_token;
    } catch (error) {
      this.retry();
      return;
    }
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/websocket`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.ready = false;
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data), token));
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.ready = false;
      for (const { reject } of this.pending.values()) reject(new Error("connection lost"));
      this.pending.clear();
      this.retry();
    });
  }

  retry() {
    setLive("lost");
    const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
    this.failures += 1;
    setTimeout(() => this.open(), delay);
  }

  receive(message, token) {
    switch (message.type) {
      case "auth_required":
        this.socket.send(JSON.stringify({ type: "auth", access_token: token }));
        return;
      case "auth_ok":
        this.ready = true;
        this.failures = 0;
        setLive("live");
        for (const subscription of this.subscriptions) this.sendSubscription(subscription);
        for (const send of this.waiting || []) send();
        this.waiting = [];
        return;
      case "auth_invalid":
        this.socket.close();
        return;
      case "event": {
        const subscription = this.subscriptions.find((item) => item.id === message.id);
        if (subscription) subscription.callback(message.event);
        return;
      }
      case "result": {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.success) pending.resolve(message.result);
        else pending.reject(Object.assign(new Error(message.error?.message || "failed"), message.error || {}));
        return;
      }
      default:
    }
  }

  sendSubscription(subscription) {
    subscription.id = this.nextId++;
    this.socket.send(JSON.stringify({ ...subscription.message, id: subscription.id }));
  }
}

function setLive(state) {
  const live = document.getElementById("live");
  if (!live) return;
  live.hidden = false; // shown only on pages that follow the WebSocket
  live.dataset.state = state;
  const text = live.querySelector(".live-text");
  const word = t(`live.${state}`);
  if (text && text.textContent !== word) text.textContent = word;
}

export const connection = new Connection();

/** Follow every visible entity: onChange(states, removedIds) with the full state objects that changed. */
export function followEntities(onChange) {
  const states = new Map();
  connection.subscribe({ type: "subscribe_entities" }, (event) => {
    const changed = [];
    const removed = [];
    for (const [entityId, compressed] of Object.entries(event.a || {})) {
      const state = {
        entity_id: entityId,
        state: compressed.s,
        attributes: compressed.a || {},
        last_changed: compressed.lc,
        last_updated: compressed.lu ?? compressed.lc,
      };
      states.set(entityId, state);
      changed.push(state);
    }
    for (const [entityId, diff] of Object.entries(event.c || {})) {
      const old = states.get(entityId);
      if (!old) continue;
      const plus = diff["+"] || {};
      const attributes = { ...old.attributes, ...(plus.a || {}) };
      for (const name of diff["-"]?.a || []) delete attributes[name];
      const state = { ...old, attributes };
      if ("s" in plus) state.state = plus.s;
      if ("lc" in plus) {
        state.last_changed = plus.lc;
        state.last_updated = plus.lc;
      } else if ("lu" in plus) {
        state.last_updated = plus.lu;
      }
      states.set(entityId, state);
      changed.push(state);
    }
    for (const entityId of event.r || []) {
      states.delete(entityId);
      removed.push(entityId);
    }
    onChange(changed, removed);
  });
  return states;
}
