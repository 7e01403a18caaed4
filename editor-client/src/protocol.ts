// The contract with the colearner language server: custom messages, the
// server's executeCommand names and the JSON shapes they carry. The server
// (colearner_lsp) is the source of truth; these types mirror its `--json`
// output and are only as strict as the client needs.

import * as vscode from 'vscode';

export const Methods = {
    status: 'colearner/status',
    inbox: 'colearner/inbox',
    dashboard: 'colearner/dashboard',
    history: 'colearner/history',
    threads: 'colearner/threads',
} as const;

/** Commands the server registers; the language client exposes them as VS Code commands of the same id. */
export const ServerCommands = {
    acknowledge: 'colearner.acknowledge',
    respond: 'colearner.respond',
    attachEvidence: 'colearner.attachEvidence',
    submitProgress: 'colearner.submitProgress',
    assign: 'colearner.assign',
    sendFeedback: 'colearner.sendFeedback',
    requestEvidence: 'colearner.requestEvidence',
    setScope: 'colearner.setScope',
    advanceSession: 'colearner.advanceSession',
} as const;

export type Role = 'coach' | 'student';

/** `colearner.respond` with only an exercise id: the response document written (or the draft kept). */
export interface ResponseDocument {
    ok: boolean;
    exercise_id: string;
    /** A file URI under `.colearner/responses/`. */
    document: string;
    created: boolean;
    /** Whether the server's `window/showDocument` opened it. */
    shown: boolean;
}

export interface Status {
    role: Role;
    identity: string;
    broker: 'connected' | 'offline';
    outbox: number;
    stage: string | null;
    session_id: string | null;
    /** Coach only: students on the roster. */
    students?: number | null;
    /** The server's Kafka loop: restarted by the server when it fails. */
    bus?: BusHealth;
}

export interface BusHealth {
    /** `failing`: it failed and has not completed a turn since; `running` otherwise. */
    state: 'running' | 'failing';
    restarts: number;
    /** The last failure, one line; kept after it recovered. */
    error: string | null;
}

export interface Anchor {
    path: string;
    start_line: number;
    end_line: number;
}

/** A mistake the coach pointed out, optionally anchored to lines. */
export type Mistake = string | { text: string; path?: string; start_line?: number; end_line?: number };

export interface Feedback {
    grade: 'pass' | 'revise';
    mistakes: Mistake[];
    next_step: string;
    confidence_delta: number;
}

export interface Exercise {
    exercise_id: string;
    topic: string;
    exercise: string;
    expected: string;
    tests: string[];
    state: string;
    anchor: Anchor | null;
    feedback: Feedback[];
}

export interface PlanStep {
    id: string;
    topic: string;
    status: string;
}

export interface InboxSession {
    session_id: string;
    stage: string;
    coach: string | null;
    plan: { goals: string[]; steps: PlanStep[] };
    exercises: Exercise[];
}

export interface Inbox {
    sessions: InboxSession[];
}

export interface Blocker {
    kind: string;
    reason: string;
    since: string | null;
    age_s?: number;
    student?: string | null;
    exercise_id?: string | null;
}

/** An exercise as the coach's dashboard lists it. */
export interface ExerciseSummary {
    exercise_id: string;
    session_id: string;
    topic: string;
    state: string;
}

export interface StudentRow {
    student: string;
    /** "none" while the student has no session. */
    stage: string;
    session_id: string | null;
    completion_rate: number;
    counts: { assigned: number; acknowledged: number; responded: number; passed: number; revise: number };
    blockers: Blocker[];
    last_activity: string | null;
    exercises?: ExerciseSummary[];
    sessions?: { session_id: string; stage: string; opened_at: string | null; last_activity: string | null }[];
    on_roster?: boolean;
    idle_seconds?: number | null;
    confidence?: Record<string, number>;
}

export interface Dashboard {
    generated_at: string;
    coach?: string;
    students: StudentRow[];
    cohort: {
        completion_rate: number;
        median_time_to_pass_s: number | null;
        per_stage: Record<string, number>;
        students?: number;
        open_sessions?: number;
        quarantined?: number;
    };
    blockers: Blocker[];
}

/** One step of an exercise's conversation, as `colearner/threads` gives it (wire text already made visible). */
export interface ThreadEntry {
    /** exercise, answer, evidence, evidence_request or feedback; a kind of a newer server is shown by its name. */
    kind: string;
    author: string;
    ts: string;
    text: string;
    expected?: string;
    tests?: string[];
    grade?: string;
    mistakes?: { text: string; path?: string; start_line?: number; end_line?: number }[];
    mistakes_left_off?: number;
    evidence_summary?: string;
    paths?: string;
    answered?: boolean;
}

/** A mistake of the latest `revise` on lines outside the exercise's: a thread of its own. */
export interface ThreadPlace {
    path: string;
    start_line: number;
    end_line: number;
    text: string;
}

export interface ExerciseThread {
    exercise_id: string;
    short_id: string;
    session_id: string;
    topic: string;
    state: string;
    student: string;
    coach: string;
    /** Whose move it is; null once passed. */
    turn: 'student' | 'coach' | null;
    /** acknowledge | answer_request | respond (the student's) or review (the coach's). */
    next: string | null;
    path: string | null;
    /** 1-based, inclusive: where the server tracks the exercise's code now. */
    range: { start_line: number; end_line: number } | null;
    lost: boolean;
    entries: ThreadEntry[];
    entries_left_off: number;
    places: ThreadPlace[];
}

export interface Threads {
    role: Role;
    identity: string;
    threads: ExerciseThread[];
    left_off: number;
}

export function mistakeText(mistake: Mistake): string {
    if (typeof mistake === 'string') {
        return mistake;
    }
    return mistake.path ? `${mistake.text} (${mistake.path}:${mistake.start_line ?? ''})` : mistake.text;
}

/** What the server attaches to each of its diagnostics as `data`. */
export interface DiagnosticData {
    exercise_id: string;
    kind: string;
}

export const DIAGNOSTIC_SOURCE = 'colearner';

export const STAGES = ['init', 'plan', 'practice', 'review', 'done'] as const;

/**
 * The editor range of an anchor. Anchor lines are 1-based and inclusive, as
 * `colearner assign --lines A-B` takes them and `colearner inbox` prints them.
 */
export function anchorRange(anchor: Anchor): vscode.Range {
    const start = Math.max(anchor.start_line - 1, 0);
    const end = Math.max(anchor.end_line - 1, start);
    return new vscode.Range(start, 0, end, Number.MAX_SAFE_INTEGER);
}

/** The exercise a diagnostic is about, when the server put it there. */
export function diagnosticData(diagnostic: vscode.Diagnostic): DiagnosticData | undefined {
    if (diagnostic.source !== DIAGNOSTIC_SOURCE) {
        return undefined;
    }
    // vscode-languageclient keeps the LSP `data` field on its ProtocolDiagnostic.
    const data = (diagnostic as { data?: unknown }).data;
    if (typeof data === 'object' && data !== null && typeof (data as DiagnosticData).exercise_id === 'string') {
        return data as DiagnosticData;
    }
    return undefined;
}

/** What the command that opens a change takes: the server's own argument. */
export interface ChangeArgument {
    exercise_id: string;
    path: string;
    evidence_id?: string | null;
}
