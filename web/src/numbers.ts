// Feedback while dialling: what the typed text is, before the node (the only judge, with the
// site's number plan) answers. Accepts what people type: digits, a leading +, spaces, ( ) - / .
export type DialCheck =
  | { kind: "empty" }
  | { kind: "internal"; digits: string }
  | { kind: "external"; digits: string }
  | { kind: "invalid"; bad: string };

const SEPARATORS = /[\s()\-/.]/g;

export function checkDial(text: string): DialCheck {
  const trimmed = text.trim();
  if (trimmed === "") return { kind: "empty" };
  const bad = /[^0-9+\s()\-/.*#]/.exec(trimmed);
  if (bad !== null) return { kind: "invalid", bad: bad[0] };
  const compact = trimmed.replace(SEPARATORS, "");
  if (compact.lastIndexOf("+") > 0) return { kind: "invalid", bad: "+" };
  if (compact === "+" || compact === "") return { kind: "invalid", bad: trimmed };
  if (!compact.startsWith("+") && !compact.startsWith("0") && compact.length <= 6) {
    return { kind: "internal", digits: compact };
  }
  return { kind: "external", digits: compact };
}
