// Chat's pure parts (specs/chat.md, IM-01..03): a conversation's messages kept by seq (live
// events and fetched pages arrive in any order, each at least once), the seq to fetch from
// after a reconnect, and the unread count from the read watermark.
import type { Doc } from "./session";

export interface Conversation {
  partner: string;
  lastSeq: number;
  readSeq: number;
  unread: number;
}

/** Merge messages into ``held`` (by seq: a repeat replaces nothing), oldest first. */
export function merge(held: Doc[], incoming: Doc[]): Doc[] {
  const bySeq = new Map<number, Doc>();
  for (const m of held) bySeq.set(m["seq"] as number, m);
  for (const m of incoming) {
    const seq = m["seq"];
    if (typeof seq === "number" && !bySeq.has(seq)) bySeq.set(seq, m);
  }
  return [...bySeq.values()].sort((a, b) => (a["seq"] as number) - (b["seq"] as number));
}

/** The highest seq held: `getChatMessages` with `sinceSeq` fetches what came after it. */
export function highest(held: Doc[]): number {
  return held.reduce((top, m) => Math.max(top, m["seq"] as number), 0);
}

/** The partner's messages after the read watermark, of those held. */
export function unread(held: Doc[], me: string, readSeq: number): number {
  return held.filter((m) => m["sender"] !== me && (m["seq"] as number) > readSeq).length;
}

/** A client message id for `sendChatMessage` (1..64 printable ASCII): a retry reuses it. */
export function clientMessageId(random: () => number = Math.random): string {
  return `w${Date.now().toString(36)}${Math.floor(random() * 2 ** 32).toString(36)}`;
}
