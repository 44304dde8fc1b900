// A call as a ladder diagram (the operator view of issue 17; `cti trace` draws the same from
// the log on the server): devices as columns in the order they appear, the call's events in
// seq order as rows with their causes, an arrow from the device that acts to the one it
// reaches, each connection's state after the event, the switch's timers (no answer) as a
// dashed bar beside the device's lifeline from where they were set to where they were cleared.
// The events come from `trace` or `replay`, so the node decides what an account may see: a
// user their own devices' calls (without timers, which only `trace` gives), an operator every
// call.
import type { Doc, Json } from "./session";

const SVG = "http://www.w3.org/2000/svg";
const COLUMN = 130;
const LEFT = 300;
const ROW = 28;
const TOP = 60;
const COLOURS: Record<string, string> = {
  alerting: "#b26a00",
  connected: "#1a7f37",
  hold: "#0b5cad",
  initiated: "#59636e",
  failed: "#c62828",
  queued: "#6a1b9a",
  null: "#8a939c",
};

const s = (v: Json | undefined): string => (typeof v === "string" ? v : "");

/** The events of ``call`` and of the consultation calls merged into it, in seq order. */
export function callEvents(events: Doc[], call: number): Doc[] {
  const calls = new Set([call]);
  for (const e of events) {
    const merged = e["event"] === "transferred" || e["event"] === "conferenced";
    if (merged && calls.has(e["call"] as number) && typeof e["secondaryCall"] === "number") {
      calls.add(e["secondaryCall"]);
    }
  }
  return events
    .filter((e) => calls.has(e["call"] as number))
    .sort((a, b) => (a["seq"] as number) - (b["seq"] as number));
}

export function arrow(e: Doc): [string, string] | null {
  switch (e["event"]) {
    case "originated":
      return [s(e["calling"]), s(e["called"])];
    case "delivered":
      return [s(e["calling"]), s(e["alerting"])];
    case "established":
      return [s(e["answering"]), s(e["calling"])];
    case "diverted":
      return [s(e["diverting"]), s(e["newDestination"])];
    case "failed":
      return [s(e["calling"]), s(e["failing"])];
    case "transferred":
      return [s(e["transferring"]), s(e["transferredTo"])];
    case "conferenced": {
      const added = (e["added"] ?? []) as string[];
      return added[0] === undefined ? null : [s(e["conferencing"]), added[0]];
    }
    default:
      return null;
  }
}

function devicesOf(events: Doc[]): string[] {
  const seen: string[] = [];
  const add = (d: string) => {
    if (d !== "" && !seen.includes(d)) seen.push(d);
  };
  for (const e of events) {
    const pair = arrow(e);
    if (pair !== null) pair.forEach(add);
    add(s(e["device"]));
    for (const c of (e["connections"] ?? []) as Doc[]) add(s(c["device"]));
  }
  return seen;
}

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A row's text: seq, time since the first event, the event with its cause (a timer: its
 * purpose and when it is due), the call. */
export function label(e: Doc, first: number): string {
  const at = Date.parse(s(e["ts"]));
  const since = ((at - first) / 1000).toFixed(3);
  const cause = s(e["cause"]);
  let extra = cause ? ` (${cause})` : "";
  if (e["event"] === "timerSet") {
    const due = Number((((e["dueMs"] as number) - at) / 1000).toFixed(3));
    extra = ` ${s(e["purpose"])} due +${due} s`;
  } else if (e["event"] === "timerCleared") {
    extra = ` ${s(e["purpose"])}`;
  }
  return `${String(e["seq"])}  +${since} s  ${s(e["event"])}${extra}  [${String(e["call"])}]`;
}

export interface TimerBar {
  device: string;
  purpose: string;
  from: number; // the row where it was set
  to: number; // the row where it was cleared, or events.length: it never was (it ran on)
}

/** The switch's timers among ``events`` (rows in order), as `cti trace` draws them. */
export function timerBars(events: Doc[]): TimerBar[] {
  const open = new Map<string, TimerBar>();
  const bars: TimerBar[] = [];
  events.forEach((e, row) => {
    const key = `${String(e["call"])}|${s(e["device"])}|${s(e["purpose"])}`;
    if (e["event"] === "timerSet") {
      open.set(key, { device: s(e["device"]), purpose: s(e["purpose"]), from: row, to: events.length });
    } else if (e["event"] === "timerCleared") {
      const bar = open.get(key);
      if (bar === undefined) return;
      open.delete(key);
      bars.push({ ...bar, to: row });
    }
  });
  return [...bars, ...open.values()].sort((a, b) => a.from - b.from);
}

export function ladder(call: number, events: Doc[], title: string): SVGSVGElement {
  const devices = devicesOf(events);
  const x = new Map(devices.map((d, i) => [d, LEFT + COLUMN / 2 + i * COLUMN]));
  const width = LEFT + COLUMN * Math.max(devices.length, 1) + 20;
  const height = TOP + ROW * (events.length + 1);
  const svg = el("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": "ladder-title",
    "font-size": 12,
  }) as SVGSVGElement;
  svg.append(el("title", { id: "ladder-title" }, title));
  const defs = el("defs", {});
  const marker = el("marker", {
    id: "ladder-arrow",
    viewBox: "0 0 10 10",
    refX: 10,
    refY: 5,
    markerWidth: 8,
    markerHeight: 8,
    orient: "auto-start-reverse",
  });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "currentColor" }));
  defs.append(marker);
  svg.append(defs);
  for (const [device, cx] of x) {
    svg.append(el("text", { x: cx, y: TOP - 20, "text-anchor": "middle", "font-weight": "bold", class: "device" }, device));
    svg.append(el("line", { x1: cx, y1: TOP - 10, x2: cx, y2: height - 10, stroke: "#c0c6cc" }));
  }
  const first = Date.parse(s(events[0]?.["ts"])) || 0;
  const rowY = (row: number) => TOP + ROW * row + ROW / 2;
  for (const bar of timerBars(events)) {
    const cx = x.get(bar.device);
    if (cx === undefined) continue;
    const line = el("line", {
      x1: cx - 6,
      y1: rowY(bar.from),
      x2: cx - 6,
      y2: bar.to < events.length ? rowY(bar.to) : height - 10,
      stroke: "#6a1b9a",
      "stroke-width": 3,
      "stroke-dasharray": "4 3",
      class: "timer",
      "data-device": bar.device,
      "data-purpose": bar.purpose,
      "data-cleared": String(bar.to < events.length),
    });
    line.append(el("title", {}, `${bar.purpose} timer of ${bar.device}`));
    svg.append(line);
  }
  events.forEach((e, row) => {
    const y = rowY(row);
    const g = el("g", { class: "event", "data-seq": String(e["seq"]), "data-event": s(e["event"]) });
    g.append(el("text", { x: 8, y: y + 4 }, label(e, first)));
    if (e["event"] === "timerSet") {
      const cx = x.get(s(e["device"]));
      if (cx !== undefined) g.append(el("text", { x: cx - 8, y: y + 4, "text-anchor": "end", "font-size": 10, class: "timer" }, "timer"));
    }
    const pair = arrow(e);
    const from = pair === null ? undefined : x.get(pair[0]);
    const to = pair === null ? undefined : x.get(pair[1]);
    if (from !== undefined && to !== undefined && from !== to) {
      g.append(el("line", { x1: from, y1: y, x2: to, y2: y, stroke: "currentColor", "marker-end": "url(#ladder-arrow)" }));
    }
    for (const c of (e["connections"] ?? []) as Doc[]) {
      const cx = x.get(s(c["device"]));
      if (cx === undefined) continue;
      const state = s(c["state"]);
      const colour = COLOURS[state] ?? "#59636e";
      g.append(el("circle", { cx, cy: y, r: 4, fill: colour }));
      g.append(el("text", { x: cx + 7, y: y - 4, "font-size": 10, fill: colour }, state));
    }
    svg.append(g);
  });
  if (events.length === 0) svg.append(el("text", { x: 8, y: TOP }, `no events of call ${call}`));
  return svg;
}

export interface PastConnection {
  call: number;
  state: string;
  parties: string[];
}

/** The connections ``device`` had after the event at ``seq``, from the events' connection
 * lists (each event carries its call's whole list after it): what a device looked like at
 * any past moment of the log. */
export function stateAt(events: Doc[], device: string, seq: number): PastConnection[] {
  const calls = new Map<number, PastConnection>();
  const ordered = [...events].sort((a, b) => (a["seq"] as number) - (b["seq"] as number));
  for (const e of ordered) {
    if ((e["seq"] as number) > seq) break;
    const call = e["call"];
    if (typeof call !== "number" || !Array.isArray(e["connections"])) continue; // a timer: no connections
    if (typeof e["secondaryCall"] === "number") calls.delete(e["secondaryCall"]); // merged
    const connections = (e["connections"] ?? []) as Doc[];
    const mine = connections.find((c) => c["device"] === device);
    if (mine === undefined || mine["state"] === "null") {
      calls.delete(call);
      continue;
    }
    const parties = connections.map((c) => s(c["device"])).filter((d) => d !== device);
    calls.set(call, { call, state: s(mine["state"]), parties });
  }
  return [...calls.values()].sort((a, b) => a.call - b.call);
}
