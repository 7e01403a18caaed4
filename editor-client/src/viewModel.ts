// The views' model, without VS Code: the tree's grouping and counts, what
// waits for you, names and times a person reads. Pure functions over what
// `colearner/threads` returns, so tests/views/test_tree_model.py compiles and
// runs this file with node alone.

import { oneLine } from './display';

/** What the tree and the status bar need of an exercise (a subset of the server's thread). */
export interface ExerciseRow {
    exercise_id: string;
    short_id: string;
    session_id: string;
    topic: string;
    state: string;
    student: string;
    turn: 'student' | 'coach' | null;
    next: string | null;
}

export interface SessionInfo {
    session_id: string;
    student: string;
    stage: string;
}

export interface StateGroup {
    state: string;
    label: string;
    exercises: ExerciseRow[];
}

export interface SessionGroup {
    session_id: string;
    stage: string;
    groups: StateGroup[];
    total: number;
    counts: Record<string, number>;
}

export interface StudentGroup {
    student: string;
    sessions: SessionGroup[];
    total: number;
    counts: Record<string, number>;
}

export type Role = 'coach' | 'student';

// Exercise states in the order they are met; unknown states follow.
export const STATE_ORDER = ['assigned', 'acknowledged', 'responded', 'revise', 'passed'];

const STUDENT_LABEL: Record<string, string> = {
    assigned: 'new',
    acknowledged: 'in progress',
    responded: 'answer sent',
    revise: 'to revise',
    passed: 'passed',
};
const COACH_LABEL: Record<string, string> = {
    assigned: 'not acknowledged yet',
    acknowledged: 'in progress',
    responded: 'to review',
    revise: 'sent back to revise',
    passed: 'passed',
};

/** A state as the person looking reads it. */
export function stateLabel(role: Role, state: string): string {
    return (role === 'coach' ? COACH_LABEL : STUDENT_LABEL)[state] ?? oneLine(state, 40);
}

const NEXT_LABEL: Record<string, string> = {
    acknowledge: 'Acknowledge',
    answer_request: 'Answer evidence request',
    respond: 'Respond',
    review: 'Review',
};

export function nextLabel(next: string | null): string | undefined {
    return next ? NEXT_LABEL[next] ?? oneLine(next, 40) : undefined;
}

/** True when the exercise waits for the person looking (a student to answer, a coach to review). */
export function waitsForYou(role: Role, row: Pick<ExerciseRow, 'turn'>): boolean {
    return row.turn === role;
}

/** "2 to answer" / "3 to review", or undefined when nothing waits. */
export function waitingText(role: Role, count: number): string | undefined {
    if (count <= 0) {
        return undefined;
    }
    return `${count} to ${role === 'coach' ? 'review' : 'answer'}`;
}

function rank(state: string): number {
    const i = STATE_ORDER.indexOf(state);
    return i < 0 ? STATE_ORDER.length : i;
}

function countsOf(exercises: ExerciseRow[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const e of exercises) {
        counts[e.state] = (counts[e.state] ?? 0) + 1;
    }
    return counts;
}

/** "1 to review · 2 passed": each exercise counted once, in its one state; states with none left out. */
export function countsText(role: Role, counts: Record<string, number>): string {
    const states = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    return states.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${stateLabel(role, s)}`).join(' · ');
}

function byState(role: Role, exercises: ExerciseRow[]): StateGroup[] {
    const groups = new Map<string, ExerciseRow[]>();
    for (const e of exercises) {
        groups.set(e.state, [...(groups.get(e.state) ?? []), e]);
    }
    return [...groups.entries()]
        .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
        .map(([state, list]) => ({ state, label: stateLabel(role, state), exercises: list }));
}

/**
 * Students → sessions → exercises by state. Each exercise appears once (the
 * first time its id is seen), under its own student and session; sessions
 * known without exercises are kept; the counts of a session add up to its
 * exercises, and a student's to the sum of their sessions.
 */
export function groupTree(role: Role, sessions: SessionInfo[], exercises: ExerciseRow[]): StudentGroup[] {
    const seen = new Set<string>();
    const unique = exercises.filter((e) => (seen.has(e.exercise_id) ? false : (seen.add(e.exercise_id), true)));
    const stages = new Map(sessions.map((s) => [s.session_id, s]));
    const students = new Map<string, Map<string, ExerciseRow[]>>();
    const sessionsOf = (student: string) => {
        let found = students.get(student);
        if (!found) {
            found = new Map();
            students.set(student, found);
        }
        return found;
    };
    for (const s of sessions) {
        const of = sessionsOf(s.student);
        if (!of.has(s.session_id)) {
            of.set(s.session_id, []);
        }
    }
    for (const e of unique) {
        const student = stages.get(e.session_id)?.student ?? e.student;
        const of = sessionsOf(student);
        of.set(e.session_id, [...(of.get(e.session_id) ?? []), e]);
    }
    return [...students.entries()].map(([student, of]) => {
        const groups: SessionGroup[] = [...of.entries()].map(([session_id, list]) => ({
            session_id,
            stage: stages.get(session_id)?.stage ?? '',
            groups: byState(role, list),
            total: list.length,
            counts: countsOf(list),
        }));
        const all = groups.flatMap((g) => g.groups.flatMap((sg) => sg.exercises));
        return { student, sessions: groups, total: all.length, counts: countsOf(all) };
    });
}

/** A wire time as the person reads it: "5 min ago", "yesterday", "3 days ago"; "" when unreadable. */
export function relativeTime(ts: string, now: number = Date.now()): string {
    const t = Date.parse(ts);
    if (!Number.isFinite(t)) {
        return '';
    }
    const s = Math.round((now - t) / 1000);
    if (s < 0) {
        return 'just now';
    }
    if (s < 45) {
        return 'just now';
    }
    if (s < 3600) {
        const m = Math.max(1, Math.round(s / 60));
        return `${m} min ago`;
    }
    if (s < 86400) {
        const h = Math.round(s / 3600);
        return `${h} h ago`;
    }
    const d = Math.round(s / 86400);
    if (d === 1) {
        return 'yesterday';
    }
    if (d < 60) {
        return `${d} days ago`;
    }
    return `${Math.round(d / 30)} months ago`;
}

/** A wire time in the local time zone, "2026-01-02 10:00"; the wire text, made visible, when unreadable. */
export function localTime(ts: string): string {
    const t = Date.parse(ts);
    if (!Number.isFinite(t)) {
        return oneLine(ts, 40);
    }
    const d = new Date(t);
    const two = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}
