// One comment thread per exercise at its code (VS Code's Comments API): the
// exercise, each answer with its evidence, each feedback and its mistakes, in
// order, with author and time; the latest revise's mistakes on other lines get
// threads of their own that reply into the same exercise. Built from
// `colearner/threads`, whose text the server has made visible; every text is
// still put in through visible()/oneLine() and appendText (no Markdown).

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine, visible } from './display';
import { ExerciseThread, Methods, Role, ThreadEntry, ThreadPlace, Threads } from './protocol';
import { nextLabel, stateLabel } from './viewModel';

export const CONTROLLER_ID = 'colearner.threads';

interface Shown {
    thread: vscode.CommentThread;
    exercise: ExerciseThread;
    /** What the thread shows, to leave it alone when nothing changed. */
    key: string;
}

const KIND_LABEL: Record<string, string> = {
    exercise: 'exercise',
    answer: 'answer',
    evidence: 'evidence',
    evidence_request: 'evidence request',
    feedback: 'feedback',
};

export class CommentThreads implements vscode.Disposable {
    private readonly controller = vscode.comments.createCommentController(CONTROLLER_ID, 'Colearner');
    private readonly shown = new Map<string, Shown>();
    private readonly changes = new vscode.EventEmitter<Threads | undefined>();
    private latest: Threads | undefined;
    private pending: Promise<void> | undefined;
    private again = false;
    readonly onDidChange = this.changes.event;

    constructor(private readonly client: ColearnerClient) {
        this.controller.options = { prompt: 'Reply to this exercise…', placeHolder: 'Your reply (Markdown is shown as typed)' };
        // Replying is offered on the exercises' own lines, so a thread opened there belongs to one.
        this.controller.commentingRangeProvider = {
            provideCommentingRanges: (document) =>
                [...this.shown.values()].filter((s) => s.thread.uri.toString() === document.uri.toString()).map((s) => s.thread.range),
        };
    }

    /** The last answer of `colearner/threads`, while the server runs. */
    get data(): Threads | undefined {
        return this.latest;
    }

    /** The exercise a thread (ours, or one the user opened on an exercise's lines) is about. */
    exerciseOf(thread: vscode.CommentThread): ExerciseThread | undefined {
        for (const s of this.shown.values()) {
            if (s.thread === thread) {
                return s.exercise;
            }
        }
        const line = thread.range.start.line;
        return [...this.shown.values()].find(
            (s) => s.thread.uri.toString() === thread.uri.toString() && s.thread.range.start.line <= line && line <= s.thread.range.end.line,
        )?.exercise;
    }

    exercise(exerciseId: string): ExerciseThread | undefined {
        return this.shown.get(exerciseId)?.exercise ?? this.latest?.threads.find((t) => t.exercise_id === exerciseId);
    }

    /** Opens the exercise's file at its thread and expands the thread. */
    async reveal(exerciseId: string): Promise<boolean> {
        const s = this.shown.get(exerciseId);
        if (!s) {
            return false;
        }
        const document = await vscode.workspace.openTextDocument(s.thread.uri);
        const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(s.thread.range.start, s.thread.range.start) });
        editor.revealRange(s.thread.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        s.thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
        return true;
    }

    /** Asks the server again; calls made meanwhile are folded into one more round. */
    refresh(): Promise<void> {
        if (this.pending) {
            this.again = true;
            return this.pending;
        }
        this.pending = (async () => {
            do {
                this.again = false;
                await this.load();
            } while (this.again);
        })().finally(() => (this.pending = undefined));
        return this.pending;
    }

    dispose(): void {
        for (const s of this.shown.values()) {
            s.thread.dispose();
        }
        this.shown.clear();
        this.controller.dispose();
        this.changes.dispose();
    }

    private async load(): Promise<void> {
        const folder = vscode.workspace.workspaceFolders?.[0];
        let data: Threads | undefined;
        if (folder && this.client.state.kind === 'running' && this.client.status) {
            try {
                data = await this.client.request<Threads>(Methods.threads);
            } catch {
                data = undefined; // the server is restarting, or too old to answer: show nothing rather than stale threads
            }
        }
        this.latest = data;
        this.render(folder, data);
        this.changes.fire(data);
    }

    private render(folder: vscode.WorkspaceFolder | undefined, data: Threads | undefined): void {
        const wanted = new Map<string, { uri: vscode.Uri; range: vscode.Range; exercise: ExerciseThread; place?: ThreadPlace }>();
        if (folder && data) {
            for (const exercise of data.threads) {
                if (!exercise.path || !exercise.range) {
                    continue;
                }
                const uri = vscode.Uri.joinPath(folder.uri, exercise.path);
                wanted.set(exercise.exercise_id, { uri, range: lines(exercise.range.start_line, exercise.range.end_line), exercise });
                exercise.places.forEach((place, i) => {
                    wanted.set(`${exercise.exercise_id}#${i}`, {
                        uri: vscode.Uri.joinPath(folder.uri, place.path),
                        range: lines(place.start_line, place.end_line),
                        exercise,
                        place,
                    });
                });
            }
        }
        for (const [id, s] of this.shown) {
            const want = wanted.get(id);
            if (!want || want.uri.toString() !== s.thread.uri.toString()) {
                s.thread.dispose();
                this.shown.delete(id);
            }
        }
        const role = data?.role ?? 'student';
        for (const [id, want] of wanted) {
            const key = JSON.stringify([want.exercise, want.place ?? null]);
            let s = this.shown.get(id);
            if (!s) {
                const thread = this.controller.createCommentThread(want.uri, want.range, []);
                const yours = want.exercise.turn === role;
                thread.collapsibleState = yours ? vscode.CommentThreadCollapsibleState.Expanded : vscode.CommentThreadCollapsibleState.Collapsed;
                s = { thread, exercise: want.exercise, key: '' };
                this.shown.set(id, s);
            }
            s.exercise = want.exercise;
            if (!s.thread.range.isEqual(want.range)) {
                s.thread.range = want.range;
            }
            if (s.key === key) {
                continue;
            }
            s.key = key;
            fill(s.thread, role, want.exercise, want.place);
        }
    }
}

function lines(first: number, last: number): vscode.Range {
    const start = Math.max(first - 1, 0);
    return new vscode.Range(start, 0, Math.max(last - 1, start), 0);
}

function fill(thread: vscode.CommentThread, role: Role, exercise: ExerciseThread, place?: ThreadPlace): void {
    const passed = exercise.state === 'passed';
    const next = exercise.turn === role ? nextLabel(exercise.next) : undefined;
    const head = `${oneLine(exercise.topic, 80)} · ${oneLine(exercise.short_id)}`;
    const who = role === 'coach' ? ` · ${oneLine(exercise.student, 40)}` : '';
    const state = stateLabel(role, exercise.state) + (next ? ` — next: ${next}` : '');
    thread.label = place ? `Mistake in ${head}${who}` : `${head}${who} · ${state}`;
    thread.state = passed ? vscode.CommentThreadState.Resolved : vscode.CommentThreadState.Unresolved;
    thread.canReply = !passed;
    thread.contextValue = `colearner.${role}${passed ? '.passed' : ''}`;
    if (place) {
        const body = new vscode.MarkdownString();
        body.appendText(visible(place.text));
        body.appendMarkdown('\n\n');
        body.appendText(`Filed with the feedback on "${oneLine(exercise.topic, 80)}"; a reply here goes to that exercise.`);
        const feedback = [...exercise.entries].reverse().find((e) => e.kind === 'feedback');
        thread.comments = [comment(exercise.coach, 'mistake', feedback?.ts ?? '', body)];
        return;
    }
    const comments = exercise.entries.map((entry) => comment(entry.author, labelOf(entry), entry.ts, bodyOf(entry)));
    if (exercise.entries_left_off > 0) {
        const note = new vscode.MarkdownString();
        note.appendText(`${exercise.entries_left_off} earlier entries not shown.`);
        comments.splice(1, 0, comment('colearner', 'note', '', note));
    }
    thread.comments = comments;
}

function comment(author: string, label: string, ts: string, body: vscode.MarkdownString): vscode.Comment {
    // VS Code shows the timestamp relative ("5 minutes ago"), the local time in its tooltip.
    const t = Date.parse(ts);
    return {
        author: { name: oneLine(author, 80) },
        label,
        body,
        mode: vscode.CommentMode.Preview,
        timestamp: Number.isFinite(t) ? new Date(t) : undefined,
        contextValue: label,
    };
}

function labelOf(entry: ThreadEntry): string {
    const kind = KIND_LABEL[entry.kind] ?? oneLine(entry.kind, 30);
    return entry.kind === 'feedback' && entry.grade ? `${kind}: ${oneLine(entry.grade, 20)}` : kind;
}

function bodyOf(entry: ThreadEntry): vscode.MarkdownString {
    const body = new vscode.MarkdownString();
    const text = (value: unknown) => body.appendText(visible(value));
    const bold = (label: string) => body.appendMarkdown(`**${label}** `);
    if (entry.text) {
        text(entry.text);
    }
    if (entry.kind === 'exercise') {
        if (entry.expected) {
            body.appendMarkdown('\n\n');
            bold('Expected:');
            text(entry.expected);
        }
        if (entry.tests?.length) {
            body.appendMarkdown('\n\n');
            bold('Tests:');
            text(oneLine(entry.tests.join(', '), 300));
        }
    }
    if (entry.kind === 'evidence_request') {
        body.appendMarkdown('\n\n');
        bold(entry.answered ? 'Asked for (answered):' : 'Asked for:');
        text(oneLine(entry.paths ?? '', 300));
    }
    if (entry.evidence_summary) {
        body.appendMarkdown('\n\n');
        bold('Evidence:');
        text(oneLine(entry.evidence_summary, 300));
    }
    if (entry.mistakes?.length) {
        body.appendMarkdown('\n\n');
        bold('Mistakes:');
        for (const m of entry.mistakes) {
            body.appendMarkdown('\n- ');
            text(oneLine(m.text, 300));
            if (m.path && m.start_line) {
                body.appendMarkdown(' ');
                text(`(${oneLine(m.path, 120)}:${m.start_line}${m.end_line && m.end_line !== m.start_line ? `-${m.end_line}` : ''})`);
            }
        }
        if (entry.mistakes_left_off) {
            body.appendMarkdown('\n- ');
            text(`… and ${entry.mistakes_left_off} more`);
        }
    }
    if (!entry.text && !entry.evidence_summary && !entry.mistakes?.length) {
        text('(no text)');
    }
    return body;
}
