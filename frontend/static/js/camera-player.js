// A small live HLS player of our own: it reads the hub's fMP4 playlist, appends the init segment and each new
// media segment to a Media Source Extensions SourceBuffer, keeps close to the live edge and trims what is behind.
// No hls.js and no CDN: the hub's playlists are simple (one rendition, fMP4, discontinuities only on reconnects).

export class HlsUnsupportedError extends Error {}

export class StreamUnavailableError extends Error {}

const KEEP_SECONDS = 30; // buffer kept behind the playhead
const LIVE_SLACK_TARGETS = 3; // further behind than this many target durations: jump to the live edge

/** Parse a media playlist into {target, segments: [{sequence, uri, duration, map}]}. */
export function parsePlaylist(text) {
  const segments = [];
  let target = 2;
  let sequence = 0;
  let map = null;
  let duration = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-TARGETDURATION:")) target = Number(line.split(":")[1]) || target;
    else if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) sequence = Number(line.split(":")[1]) || 0;
    else if (line.startsWith("#EXT-X-MAP:")) map = /URI="([^"]+)"/.exec(line)?.[1] || null;
    else if (line.startsWith("#EXTINF:")) duration = parseFloat(line.slice(8));
    else if (line && !line.startsWith("#")) {
      segments.push({ sequence, uri: line, duration: duration ?? target, map });
      sequence += 1;
      duration = null;
    }
  }
  return { target, segments };
}

/** The RFC 6381 codec of an fMP4 init segment, read from its avcC (or hvcC) box. */
export function codecOf(init) {
  const bytes = new Uint8Array(init);
  for (let i = 4; i + 8 < bytes.length; i++) {
    const box = String.fromCharCode(bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]);
    if (box === "avcC") {
      const hex = (value) => value.toString(16).padStart(2, "0");
      return `avc1.${hex(bytes[i + 5])}${hex(bytes[i + 6])}${hex(bytes[i + 7])}`;
    }
    if (box === "hvcC") return "hvc1.1.6.L93.B0";
  }
  return "avc1.42E01E";
}

export class HlsPlayer {
  /** base: the camera's HLS folder, e.g. "/api/hls/camera.gate/". onState(text) reports progress. */
  constructor(video, base, onState = () => {}) {
    this.video = video;
    this.base = base;
    this.onState = onState;
    this.stopped = false;
    this.controller = new AbortController();
    this.mediaSource = null;
    this.buffer = null;
    this.map = null;
    this.next = null; // the next segment sequence to append
    this.appended = 0;
  }

  static supported() {
    return typeof MediaSource !== "undefined";
  }

  async start() {
    while (!this.stopped) {
      let wait = 1000;
      try {
        const { target, segments } = parsePlaylist(await this.fetchText("playlist.m3u8"));
        wait = Math.max(250, (target * 1000) / 2);
        if (this.next === null) {
          // Join near the live edge: the last two segments.
          this.next = segments.length ? segments[Math.max(0, segments.length - 2)].sequence : null;
        } else if (segments.length && this.next < segments[0].sequence) {
          this.next = segments[0].sequence; // we fell behind the window
        }
        for (const segment of segments) {
          if (this.stopped || this.next === null || segment.sequence < this.next) continue;
          if (segment.map !== this.map) await this.initialise(segment.map);
          await this.append(await this.fetchBytes(segment.uri));
          this.next = segment.sequence + 1;
          this.appended += 1;
        }
        this.followLiveEdge(target);
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof HlsUnsupportedError) throw error;
        this.onState("retrying", error.message);
        wait = 3000;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  stop() {
    this.stopped = true;
    this.controller.abort();
    if (this.video.src) URL.revokeObjectURL(this.video.src);
  }

  async fetchResponse(path) {
    const response = await fetch(new URL(path, location.origin + this.base), {
      credentials: "same-origin",
      cache: "no-store",
      signal: this.controller.signal,
    });
    if (response.ok) return response;
    const body = await response.json().catch(() => null);
    const message = body?.error?.message || `HTTP ${response.status}`;
    if (response.status === 409) throw new HlsUnsupportedError(message);
    throw new StreamUnavailableError(message);
  }

  async fetchText(path) {
    return (await this.fetchResponse(path)).text();
  }

  async fetchBytes(path) {
    return (await this.fetchResponse(path)).arrayBuffer();
  }

  /** A new stream session (first segment, or the camera reconnected): a fresh MediaSource and its init. */
  async initialise(mapUri) {
    const init = await this.fetchBytes(mapUri);
    const codec = `video/mp4; codecs="${codecOf(init)}"`;
    if (!MediaSource.isTypeSupported(codec)) throw new HlsUnsupportedError(`this browser cannot play ${codec}`);
    if (this.video.src) URL.revokeObjectURL(this.video.src);
    this.mediaSource = new MediaSource();
    this.video.src = URL.createObjectURL(this.mediaSource);
    await new Promise((resolve) => this.mediaSource.addEventListener("sourceopen", resolve, { once: true }));
    this.buffer = this.mediaSource.addSourceBuffer(codec);
    this.buffer.mode = "segments";
    this.map = mapUri;
    await this.append(init);
    this.onState("playing");
  }

  append(data) {
    return new Promise((resolve, reject) => {
      const buffer = this.buffer;
      const done = () => {
        buffer.removeEventListener("updateend", done);
        buffer.removeEventListener("error", failed);
        resolve();
      };
      const failed = () => {
        buffer.removeEventListener("updateend", done);
        buffer.removeEventListener("error", failed);
        reject(new Error("the browser refused a segment"));
      };
      buffer.addEventListener("updateend", done);
      buffer.addEventListener("error", failed);
      buffer.appendBuffer(data);
    });
  }

  followLiveEdge(target) {
    const video = this.video;
    const ranges = video.buffered;
    if (!ranges.length) return;
    const start = ranges.start(0);
    const end = ranges.end(ranges.length - 1);
    if (video.currentTime < start || end - video.currentTime > LIVE_SLACK_TARGETS * target) {
      video.currentTime = Math.max(start, end - target);
    }
    if (video.paused) video.play().catch(() => {});
    if (this.buffer && !this.buffer.updating && video.currentTime - start > KEEP_SECONDS) {
      this.buffer.remove(start, video.currentTime - KEEP_SECONDS / 2);
    }
  }
}
