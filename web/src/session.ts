// The MQTT session of one browser tab (specs/web.md, UC rule 9): the user's own account, a
// client id of its own per tab, keepalive 25 s, and on every connect: subscribe again, take
// the retained state, fill the gap since the last seen seq with `replay`. Reconnects back off
// (0.5 s doubling to 15 s, each wait jittered ±50 %) and happen at once when the tab comes
// back to the foreground or the network returns (background tabs throttle timers).
// MQTT 5 first; a broker that speaks only MQTT 3.1.1 (NATS's MQTT listener) refuses it, and the
// tab then speaks 3.1.1 (level 4), with the reply address in the request's payload
// (specs/mqtt.md#mqtt-311-brokers-nats), until that connection is lost: the next attempt asks
// for MQTT 5 again (the operator may have moved the node to a broker that speaks it).
import mqtt from "mqtt";
import type { IClientPublishOptions, MqttClient } from "mqtt";

import { SeenSeqs } from "./seen";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Doc = { [key: string]: Json };

export interface Config {
  node: string;
  mqttPath: string;
  secureRequests: boolean;
}

export class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Doc | null,
  ) {
    super(message);
  }
}

export type SessionState = "connecting" | "online" | "offline" | "refused";

export interface Handlers {
  state(state: SessionState, why?: string): void;
  retained(topic: string, doc: Doc | null): void; // null: the retained topic was cleared
  event(doc: Doc, replayed: boolean): void; // each event of the user's devices once, by seq
  chat(doc: Doc): void; // chatMessage / chatRead on the user's own chat topic (specs/chat.md)
}

const KEEPALIVE = 25;
const REPLY_TIMEOUT_MS = 10_000;
const EXPIRY_S = 10; // a stale command dies in the broker instead of firing after a reconnect
// specs/chat.md#online: the retained session marker is refreshed every 30 s; the node counts
// a user online while a marker was seen within 90 s and its Will has not cleared it.
const MARKER_REFRESH_MS = 30_000;
// CONNACK "unsupported protocol version": a 3.1.1 broker answers MQTT 5 with its own code 1
// (no MQTT 5 reason code is 1), an MQTT 5 broker that will not speak 5 with 0x84.
const UNSUPPORTED_VERSION = new Set([1, 0x84]);

export type Level = 4 | 5;

/**
 * Which MQTT level the next connect asks for (specs/web.md#mqtt-311-brokers). MQTT 5 until a
 * broker refuses it; then 3.1.1 at once and for every attempt after it, until a connection
 * that was up is lost: the attempt after that (after the back-off) asks for 5 again, since
 * the broker behind the proxy may have changed (a node moved from NATS to Mosquitto). So a
 * 3.1.1-only broker sees at most one refused CONNECT per lost connection, never one per
 * failed attempt, and every attempt waits for the back-off as before.
 */
export class LevelChoice {
  level: Level = 5;
  fallbacks = 0; // refusals of MQTT 5 seen (the browser tests count them)

  /** A CONNECT at the current level was refused with `code`: whether to try again at once at 3.1.1. */
  refused(code: number | undefined): boolean {
    if (!refusesLevel(this.level, code)) return false;
    this.level = 4;
    this.fallbacks += 1;
    return true;
  }

  /** A connection that was up (its CONNACK accepted) is lost: the next attempt asks for 5. */
  lost(): void {
    this.level = 5;
  }
}

// One choice per tab, kept across its sessions (a sign-in after a password change, a sign-out
// and in): a new session on the same 3.1.1 broker is not refused again.
const levels = new LevelChoice();

function randomId(): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether a refused connect at `level` means the broker speaks only MQTT 3.1.1. */
export function refusesLevel(level: Level, code: number | undefined): boolean {
  return level === 5 && code !== undefined && UNSUPPORTED_VERSION.has(code);
}

/** A request as published at `level`: MQTT 5 properties, or the reply address in the payload. */
export function addressed(
  level: Level,
  fields: Doc,
  replyTo: string,
): { payload: Doc; options: IClientPublishOptions } {
  if (level === 5) {
    const properties = { responseTopic: replyTo, messageExpiryInterval: EXPIRY_S };
    return { payload: fields, options: { qos: 1, properties } };
  }
  // MQTT 3.1.1 has no properties: the address travels in the payload. Nor expiry; none is
  // needed there: the node subscribes its requests at QoS 0, so no request waits for it.
  return { payload: { ...fields, reply_to: replyTo }, options: { qos: 1 } };
}

export function backoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(500 * 2 ** attempt, 15_000);
  return Math.round(base * (0.5 + random()));
}

interface Pending {
  resolve(value: Json): void;
  reject(error: Error): void;
  timer: number;
}

/** How often this tab's CONNECTs were refused MQTT 5 (for the browser tests). */
export function fallbacks(): number {
  return levels.fallbacks;
}

export class Session {
  readonly tab = randomId();
  readonly base: string;
  private client: MqttClient | null = null;
  private pending = new Map<string, Pending>();
  private nextId = 1;
  private attempt = 0;
  private retry: number | null = null;
  private closed = false;
  private seen = new SeenSeqs(); // the handled events' seqs, bounded (./seen.ts)
  private marker: number | null = null;
  connects = 0; // connections made (the browser tests wait for a reconnect by it)
  level: Level = levels.level; // the MQTT protocol level: 5, or 4 on a 3.1.1-only broker
  lastSeq = 0; // the highest event seq handled
  epoch: string | null = null;
  state: SessionState = "connecting";

  constructor(
    readonly config: Config,
    readonly user: string,
    private readonly password: string,
    private readonly handlers: Handlers,
  ) {
    this.base = `cti/${config.node}`;
    window.addEventListener("online", () => this.wake());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.wake();
    });
  }

  get clientId(): string {
    return `web-${this.user}-${this.tab}`;
  }

  /** The topic of this tab's session marker (specs/chat.md#online). */
  get markerTopic(): string {
    return `${this.base}/users/${this.user}/sessions/${this.clientId}`;
  }

  private get url(): string {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${this.config.mqttPath}`;
  }

  /** Resolves once the first connection is up; rejects when the broker refuses the account. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connect(resolve, reject);
    });
  }

  private connect(onFirst?: () => void, onRefused?: (e: Error) => void): void {
    this.retry = null;
    this.setState("connecting");
    const level = levels.level;
    this.level = level;
    let up = false; // the broker accepted this connection
    const client = mqtt.connect(this.url, {
      protocolVersion: level,
      clientId: this.clientId,
      username: this.user,
      password: this.password,
      keepalive: KEEPALIVE,
      clean: true,
      reconnectPeriod: 0, // our own back-off with jitter (below)
      connectTimeout: 10_000,
      resubscribe: false, // we subscribe ourselves on every connect
      // A vanished tab (closed, crashed, network gone): the broker clears the session marker,
      // so the user goes offline for chat at once (specs/chat.md#online).
      will: { topic: this.markerTopic, payload: "", qos: 1, retain: true },
    });
    this.client = client;
    client.on("connect", () => {
      up = true;
      this.connects += 1;
      void this.synchronise(client).then(
        () => {
          this.attempt = 0; // only a connect that resynchronised ends the back-off
          this.setState("online");
          onFirst?.();
          onFirst = undefined;
        },
        (e: unknown) => {
          console.warn("resync failed", e);
          client.end(true);
        },
      );
    });
    client.on("message", (topic, payload) => this.receive(topic, payload));
    client.on("error", (error: Error & { code?: number }) => {
      if (!client.connected && level === levels.level && levels.refused(error.code)) {
        // A 3.1.1-only broker: at once again as 3.1.1, and so until a connection is lost.
        console.info("the broker speaks only MQTT 3.1.1: connecting with it");
        this.client = null; // its close is no lost connection
        client.end(true);
        this.connect(onFirst, onRefused);
        return;
      }
      // CONNACK 134 (bad user name or password) / 135 (not authorized): retrying with the
      // same credentials cannot help.
      if (error.code === 134 || error.code === 135 || error.code === 4 || error.code === 5) {
        this.closed = true;
        this.setState("refused", String(error.code));
        client.end(true);
        onRefused?.(new Refused("signInRefused", error.message, { reasonCode: error.code }));
        onRefused = undefined;
      }
    });
    client.on("close", () => {
      if (this.client !== client) return;
      this.stopMarker();
      this.failPending("disconnected");
      if (this.closed) return;
      if (up) levels.lost(); // on a 3.1.1 broker: the next attempt asks for MQTT 5 again
      this.setState("offline");
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.retry !== null || this.closed) return;
    const wait = backoff(this.attempt++);
    this.retry = window.setTimeout(() => this.reconnect(), wait);
  }

  private reconnect(): void {
    const old = this.client;
    this.client = null;
    old?.end(true);
    this.connect();
  }

  /** The tab is back or the network is: try now instead of at the end of the wait. */
  private wake(): void {
    if (this.closed || this.state !== "offline") return; // not while a connect is under way
    if (this.retry !== null) window.clearTimeout(this.retry);
    this.retry = null;
    this.attempt = 0;
    this.reconnect();
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) window.clearTimeout(this.retry);
    this.stopMarker();
    const client = this.client;
    if (client === null) return;
    if (!client.connected) {
      client.end(true);
      return;
    }
    // A clean disconnect sends no Will: clear the marker ourselves, then go (at the latest
    // after 2 s: a PUBACK that never comes must not keep the connection open).
    const end = window.setTimeout(() => client.end(true), 2_000);
    client.publish(this.markerTopic, "", { qos: 1, retain: true }, () => {
      window.clearTimeout(end);
      client.end(true);
    });
  }

  private announceSession(client: MqttClient): void {
    const body = JSON.stringify({ client: this.clientId, refreshS: MARKER_REFRESH_MS / 1000 });
    const publish = () => {
      if (client.connected) client.publish(this.markerTopic, body, { qos: 1, retain: true });
    };
    this.stopMarker();
    publish();
    this.marker = window.setInterval(publish, MARKER_REFRESH_MS);
  }

  private stopMarker(): void {
    if (this.marker !== null) window.clearInterval(this.marker);
    this.marker = null;
  }

  private setState(state: SessionState, why?: string): void {
    this.state = state;
    this.handlers.state(state, why);
  }

  private topics(): string[] {
    const b = this.base;
    const u = `${b}/users/${this.user}`;
    return [
      `${b}/status`,
      `${u}/inbox/${this.tab}/#`,
      `${b}/devices/${this.user}/state`,
      `${b}/devices/${this.user}/events`,
      // The user's own events (presence, profile, mailbox): never on the phone's topic,
      // which a MULAP group's account reads too (specs/security.md).
      `${u}/events`,
      `${u}/presence`,
      `${u}/favourites`,
      `${u}/journal`,
      `${u}/callers`,
      `${b}/lamps/+`,
      `${b}/presence/+`,
      `${u}/chat`,
      `${u}/conferences`,
      `${b}/online/+`,
    ];
  }

  /** Subscribe (the retained state follows), then replay what happened while away. */
  private async synchronise(client: MqttClient): Promise<void> {
    // The retained status (with the node's epoch) arrives right after the SUBACK, before the
    // replay's reply: compare the replay with the epoch held before this connect.
    const held = this.epoch;
    // QoS 1 on MQTT 5. On a 3.1.1 broker (NATS) QoS 0, as the node does: with a clean session
    // QoS 1 adds no redelivery beyond the connection (a lost one is filled by `replay`), and
    // NATS would make a JetStream consumer for each filter on every connect.
    const granted = await client.subscribeAsync(this.topics(), { qos: this.level === 5 ? 1 : 0 });
    if (granted.some((g) => g.qos > 2)) throw new Error("a subscription was refused");
    this.announceSession(client);
    if (this.lastSeq === 0) return; // a first connect: the retained state is the picture
    let from = this.lastSeq + 1;
    for (;;) {
      const page = (await this.request("replay", { fromSeq: from, limit: 500 })) as Doc;
      if (held !== null && page["epoch"] !== held) {
        // The log was recreated: what we hold belongs to another history.
        this.seen.clear();
        this.lastSeq = 0;
        return;
      }
      const published = page["publishedSeq"] as number;
      for (const event of page["events"] as Doc[]) {
        // Later events come live on the subscriptions made above (specs/mqtt.md#replay).
        if ((event["seq"] as number) <= published) this.handleEvent(event, true);
      }
      from = page["nextSeq"] as number;
      if (page["complete"] === true || from > published) return;
    }
  }

  private receive(topic: string, payload: Uint8Array): void {
    const text = new TextDecoder().decode(payload);
    if (topic.startsWith(`${this.base}/users/${this.user}/inbox/`)) {
      const id = topic.slice(topic.lastIndexOf("/") + 1);
      const waiting = this.pending.get(id);
      if (waiting === undefined) return;
      this.pending.delete(id);
      window.clearTimeout(waiting.timer);
      const reply = JSON.parse(text) as Doc;
      if (reply["ok"] === true) {
        waiting.resolve(reply["result"] ?? null);
      } else {
        const error = (reply["error"] ?? {}) as Doc;
        waiting.reject(
          new Refused(
            String(error["code"] ?? "error"),
            String(error["message"] ?? ""),
            (error["details"] as Doc | undefined) ?? null,
          ),
        );
      }
      return;
    }
    if (topic === `${this.base}/users/${this.user}/chat`) {
      this.handlers.chat(JSON.parse(text) as Doc);
      return;
    }
    if (topic.endsWith("/events")) {
      this.handleEvent(JSON.parse(text) as Doc, false);
      return;
    }
    const doc = text === "" ? null : (JSON.parse(text) as Doc);
    if (topic === `${this.base}/status` && doc !== null && typeof doc["epoch"] === "string") {
      // A recreated log seen live: its events (seq from 1 again) are not repeats of the old.
      if (this.seen.atEpoch(doc["epoch"])) this.lastSeq = 0;
      this.epoch = doc["epoch"];
    }
    this.handlers.retained(topic, doc);
  }

  private handleEvent(doc: Doc, replayed: boolean): void {
    const seq = doc["seq"];
    if (typeof seq !== "number" || !this.seen.add(seq)) return; // at least once: drop repeats
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.handlers.event(doc, replayed);
  }

  /** One request on the user's own topic; the reply comes to a topic of this tab's inbox. */
  request(service: string, fields: Doc, secure = false): Promise<Json> {
    const client = this.client;
    if (client === null || !client.connected) {
      return Promise.reject(new Refused("offline", "not connected", null));
    }
    const id = String(this.nextId++);
    const u = `${this.base}/users/${this.user}`;
    const topic = `${u}/${secure ? "secure/" : ""}requests/${service}`;
    const { payload, options } = addressed(this.level, fields, `${u}/inbox/${this.tab}/${id}`);
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Refused("timeout", "no reply", null));
      }, REPLY_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      client.publish(topic, JSON.stringify(payload), options);
    });
  }

  private failPending(why: string): void {
    for (const [id, waiting] of this.pending) {
      window.clearTimeout(waiting.timer);
      waiting.reject(new Refused("offline", why, null));
      this.pending.delete(id);
    }
  }
}
