// Unit tests of the page's pure parts, run by Node's own test runner after esbuild bundles
// them (`npm test`, part of `make web-check`): the dial check, the reconnect back-off, the
// language choice, the MQTT 3.1.1 fallback and the return to MQTT 5, chat's merge by seq, and the operator view's folding of replayed events.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clientMessageId, highest, merge, unread } from "../src/chat";
import { chooseLang } from "../src/i18n";
import { arrow, callEvents, label, stateAt, timerBars } from "../src/ladder";
import { checkDial } from "../src/numbers";
import { SeenSeqs } from "../src/seen";
import { LevelChoice, addressed, backoff, refusesLevel } from "../src/session";
import type { Doc } from "../src/session";

test("dial check: internal, external, invalid, empty", () => {
  assert.deepEqual(checkDial(" 331 "), { kind: "internal", digits: "331" });
  assert.deepEqual(checkDial("+49 (89) 7007-98765"), { kind: "external", digits: "+4989700798765" });
  assert.deepEqual(checkDial("0171 2345678"), { kind: "external", digits: "01712345678" });
  assert.deepEqual(checkDial("33a"), { kind: "invalid", bad: "a" });
  assert.deepEqual(checkDial("49+89"), { kind: "invalid", bad: "+" });
  assert.deepEqual(checkDial("+"), { kind: "invalid", bad: "+" });
  assert.deepEqual(checkDial("   "), { kind: "empty" });
});

test("back-off doubles from 0.5 s to 15 s, jittered by ±50 %", () => {
  assert.equal(backoff(0, () => 0), 250);
  assert.equal(backoff(0, () => 0.999999), 750);
  assert.equal(backoff(3, () => 0.5), 4000);
  assert.equal(backoff(30, () => 0.5), 15000);
  assert.equal(backoff(30, () => 0), 7500);
});

test("MQTT 3.1.1 fallback: when to ask again at level 4, and where the reply address goes", () => {
  assert.equal(refusesLevel(5, 1), true); // a 3.1.1 broker's "unacceptable protocol version"
  assert.equal(refusesLevel(5, 0x84), true); // MQTT 5's "unsupported protocol version"
  assert.equal(refusesLevel(4, 1), false); // already 3.1.1: a refusal is a refusal
  assert.equal(refusesLevel(5, 0x86), false); // bad user name or password
  assert.equal(refusesLevel(5, undefined), false); // a network error
  const inbox = "cti/node1/users/331/inbox/ab/1";
  assert.deepEqual(addressed(5, { device: "331" }, inbox), {
    payload: { device: "331" },
    options: { qos: 1, properties: { responseTopic: inbox, messageExpiryInterval: 10 } },
  });
  assert.deepEqual(addressed(4, { device: "331" }, inbox), {
    payload: { device: "331", reply_to: inbox },
    options: { qos: 1 },
  });
});

test("MQTT level: 3.1.1 after a refusal, MQTT 5 again once a connection was lost", () => {
  const levels = new LevelChoice();
  assert.equal(levels.level, 5);
  assert.equal(levels.refused(0x86), false); // bad password: no fallback
  assert.equal(levels.level, 5);
  assert.equal(levels.refused(1), true); // a 3.1.1-only broker: at once again at level 4
  assert.equal(levels.level, 4);
  assert.equal(levels.refused(1), false); // refused at 4 too: a refusal, no loop
  assert.equal(levels.level, 4); // failed attempts (no connection made) keep level 4
  levels.lost(); // the 3.1.1 connection that was up dropped: the broker may have changed
  assert.equal(levels.level, 5);
  levels.lost(); // an MQTT 5 connection lost: still 5
  assert.equal(levels.level, 5);
  assert.equal(levels.fallbacks, 1);
});

test("MQTT level: a 3.1.1-only broker sees one refused CONNECT per lost connection", () => {
  // A tab on NATS: each session connects (refused at 5 when asked, then 4), works, and is
  // lost; between them attempts fail without any connection (the node away, back-off).
  const levels = new LevelChoice();
  let refusals = 0;
  const attempt = (brokerSpeaks5: boolean, reachable: boolean): boolean => {
    if (!reachable) return false; // no CONNACK: nothing learnt, the level stays
    if (levels.level === 5 && !brokerSpeaks5) {
      refusals += 1;
      assert.equal(levels.refused(1), true);
    }
    return true; // connected at levels.level
  };
  for (let session = 0; session < 5; session++) {
    for (let failed = 0; failed < 3; failed++) attempt(false, false);
    assert.equal(attempt(false, true), true);
    assert.equal(levels.level, 4);
    levels.lost();
  }
  assert.equal(refusals, 5);
  assert.equal(levels.fallbacks, 5);
  // The operator moved the node to Mosquitto: the next connect speaks MQTT 5, unrefused.
  assert.equal(attempt(true, true), true);
  assert.equal(levels.level, 5);
  assert.equal(refusals, 5);
});

test("seen seqs: repeats dropped, in any order, with a bounded memory", () => {
  const seen = new SeenSeqs(100);
  assert.equal(seen.add(5), true);
  assert.equal(seen.add(5), false); // a repeat
  assert.equal(seen.add(3), true); // older, never seen: handled (a replay filling a gap)
  assert.equal(seen.add(3), false);
  for (let seq = 10; seq < 100_010; seq += 2) assert.equal(seen.add(seq), true); // sparse seqs
  assert.ok(seen.size <= 110, `kept ${seen.size}`);
  for (let seq = 100_008; seq > 100_008 - 200; seq -= 2) assert.equal(seen.add(seq), false); // the last 100 repeated
  assert.equal(seen.add(5), false); // far below: counted as seen
  assert.equal(seen.add(99_811), true); // an odd seq among the kept: never seen
  assert.equal(seen.add(100_011), true);
  seen.clear(); // a new log: its seqs start again
  assert.equal(seen.add(5), true);
  assert.equal(seen.size, 1);
});

test("seen seqs: a new epoch (the log recreated, seen live) forgets the old log's seqs", () => {
  // With an external broker the tab stays connected while the node restarts on a new log:
  // the retained status brings the new epoch live, and the new log's seqs start again at 1.
  const seen = new SeenSeqs(100);
  assert.equal(seen.atEpoch("e1"), false); // the first epoch: nothing to forget
  for (let seq = 1; seq <= 1_000; seq++) seen.add(seq);
  assert.equal(seen.add(7), false);
  assert.equal(seen.atEpoch("e1"), false); // the same log (a status refresh): still seen
  assert.equal(seen.add(7), false);
  assert.equal(seen.atEpoch("e2"), true); // a recreated log: its events are new
  assert.equal(seen.add(7), true); // below the old floor and among the old seqs, yet new
  assert.equal(seen.add(999), true);
  assert.equal(seen.add(7), false);
});

test("language: the user's choice, else the browser's first known, else English", () => {
  assert.equal(chooseLang("de", ["en-GB"]), "de");
  assert.equal(chooseLang(null, ["fr-FR", "de-AT", "en"]), "de");
  assert.equal(chooseLang("xx", ["nl-NL"]), "nl"); // Dutch, as the older guide's users
  assert.equal(chooseLang("nl", ["de-DE"]), "nl");
  assert.equal(chooseLang("xx", ["fr-FR", "it"]), "en");
});

test("chat: messages merged by seq (repeats and order), the seq to fetch from, unread", () => {
  const m = (seq: number, sender: string): Doc => ({ seq, sender, text: `m${seq}` });
  const held = merge([m(1, "331"), m(3, "332")], [m(2, "332"), m(3, "332"), m(1, "331")]);
  assert.deepEqual(
    held.map((x) => x["seq"]),
    [1, 2, 3],
  );
  assert.equal(highest(held), 3);
  assert.equal(highest([]), 0);
  assert.equal(unread(held, "331", 0), 2); // only the partner's messages count
  assert.equal(unread(held, "331", 2), 1);
  const id = clientMessageId(() => 0.5);
  assert.match(id, /^[\x21-\x7e]{1,64}$/);
});

const conns = (...pairs: [string, string][]): Doc[] =>
  pairs.map(([device, state]) => ({ device, state }));

// 331 calls 332, holds it, consults 333 (call 2), transfers: the events in call-topic form.
const EVENTS: Doc[] = [
  { seq: 5, call: 1, event: "originated", calling: "331", called: "332", connections: conns(["331", "connected"]) },
  { seq: 6, call: 1, event: "delivered", calling: "331", alerting: "332", connections: conns(["331", "connected"], ["332", "alerting"]) },
  { seq: 7, call: 9, event: "delivered", calling: "335", alerting: "336", connections: conns(["335", "connected"], ["336", "alerting"]) },
  { seq: 8, call: 1, event: "established", answering: "332", calling: "331", connections: conns(["331", "connected"], ["332", "connected"]) },
  { seq: 9, call: 1, event: "held", device: "331", connections: conns(["331", "hold"], ["332", "connected"]) },
  { seq: 10, call: 2, event: "delivered", calling: "331", alerting: "333", connections: conns(["331", "connected"], ["333", "alerting"]) },
  { seq: 11, call: 1, event: "transferred", secondaryCall: 2, transferring: "331", transferredTo: "333", connections: conns(["331", "null"], ["332", "connected"], ["333", "alerting"]) },
];

test("a call's events include the consultation merged into it, and nothing else", () => {
  assert.deepEqual(
    callEvents([...EVENTS].reverse(), 1).map((e) => e["seq"]),
    [5, 6, 8, 9, 10, 11],
  );
  assert.deepEqual(callEvents(EVENTS, 9).map((e) => e["seq"]), [7]);
});

test("arrows go from the acting device to the one it reaches", () => {
  assert.deepEqual(arrow(EVENTS[1] as Doc), ["331", "332"]);
  assert.deepEqual(arrow(EVENTS[3] as Doc), ["332", "331"]);
  assert.deepEqual(arrow(EVENTS[6] as Doc), ["331", "333"]);
  assert.equal(arrow(EVENTS[4] as Doc), null);
});

test("a device at a past seq: each call's state after the last event at or before it", () => {
  assert.deepEqual(stateAt(EVENTS, "331", 4), []);
  assert.deepEqual(stateAt(EVENTS, "331", 10), [
    { call: 1, state: "hold", parties: ["332"] },
    { call: 2, state: "connected", parties: ["333"] },
  ]);
  assert.deepEqual(stateAt(EVENTS, "331", 11), []); // transferred away; call 2 merged
  assert.deepEqual(stateAt(EVENTS, "333", 11), [
    { call: 1, state: "alerting", parties: ["331", "332"] },
  ]);
});

// The switch's timers as `trace` gives them (INTERNAL: never in replay): 332's no-answer timer
// set when it rang, cleared when it answered; 333's set and never cleared (it fired, or runs).
const TIMERS: Doc[] = [
  { seq: 6, ts: "2026-01-01T00:00:00.000Z", call: 1, event: "delivered", calling: "331", alerting: "332", connections: conns(["331", "connected"], ["332", "alerting"]) },
  { seq: 7, ts: "2026-01-01T00:00:00.000Z", call: 1, event: "timerSet", device: "332", purpose: "noAnswer", dueMs: Date.parse("2026-01-01T00:00:10.000Z") },
  { seq: 8, ts: "2026-01-01T00:00:02.500Z", call: 1, event: "established", answering: "332", calling: "331", connections: conns(["331", "connected"], ["332", "connected"]) },
  { seq: 9, ts: "2026-01-01T00:00:02.500Z", call: 1, event: "timerCleared", device: "332", purpose: "noAnswer" },
  { seq: 10, ts: "2026-01-01T00:00:03.000Z", call: 1, event: "timerSet", device: "333", purpose: "noAnswer", dueMs: Date.parse("2026-01-01T00:00:18.000Z") },
];

test("timers: a bar from set to cleared (or on to the end), labelled like cti trace", () => {
  assert.deepEqual(timerBars(TIMERS), [
    { device: "332", purpose: "noAnswer", from: 1, to: 3 },
    { device: "333", purpose: "noAnswer", from: 4, to: 5 },
  ]);
  const first = Date.parse("2026-01-01T00:00:00.000Z");
  assert.equal(label(TIMERS[1] as Doc, first), "7  +0.000 s  timerSet noAnswer due +10 s  [1]");
  assert.equal(label(TIMERS[3] as Doc, first), "9  +2.500 s  timerCleared noAnswer  [1]");
  assert.equal(label(TIMERS[2] as Doc, first), "8  +2.500 s  established  [1]");
  // A timer row has no connections: the device's past state ignores it.
  assert.deepEqual(stateAt(TIMERS, "332", 7), [{ call: 1, state: "alerting", parties: ["331"] }]);
});
