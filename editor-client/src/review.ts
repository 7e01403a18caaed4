// Reviewing the student's work: "Show the student's change" (a code lens and a code action the
// server offers on each evidence file) opens VS Code's diff editor, the file at the student's base
// commit against the student's version, both read-only documents of our own scheme; "Add a Mistake
// Here" on a selection of the student's version collects a mistake anchored to those lines of the
// student's file; "Send Review Feedback…" sends them with a grade, a next step and a confidence
// change. The server rebuilds the versions (`colearner.showStudentChange` with `show: false`, which
// answers with both texts); the language client hands the lens's and the action's command to us
// (see `ColearnerClient.intercept`), so every way in opens the same diff.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine } from './display';
import { ChangeArgument } from './protocol';
import { ReviewTree, SHOW_CHANGE_UI } from './reviewTree';

export const REVIEW_SCHEME = 'colearner-review';
export const SHOW_CHANGE = 'colearner.showStudentChange';
export const ReviewCommands = {
    addMistake: 'colearner.ui.review.addMistake',
    sendFeedback: 'colearner.ui.review.sendFeedback',
} as const;
const SEND_FEEDBACK = 'colearner.sendFeedback';

/** `colearner.showStudentChange`'s answer (with `show: false`). */
export interface StudentChange {
    ok: boolean;
    exercise_id: string;
    evidence_id: string | null;
    who: string;
    title: string;
    path: string;
    old_path: string | null;
    status: string;
    notes: string[];
    source: string | null;
    base_commit: string | null;
    base: { uri: string; label: string; text?: string | null };
    student: { uri: string; label: string; text?: string | null };
}

/** A mistake for the feedback being written, on lines of the student's file. */
export interface CollectedMistake {
    text: string;
    path: string;
    start_line: number;
    end_line: number;
}

interface StudentVersion {
    exercise_id: string;
    path: string;
    who: string;
}

/** The two versions' texts, served read-only under `colearner-review:`. */
class ReviewDocuments implements vscode.TextDocumentContentProvider {
    private readonly texts = new Map<string, string>();
    private readonly changes = new vscode.EventEmitter<vscode.Uri>();
    readonly onDidChange = this.changes.event;

    put(uri: vscode.Uri, text: string): void {
        const known = this.texts.has(uri.toString());
        this.texts.set(uri.toString(), text);
        if (known) {
            this.changes.fire(uri); // the same file of a newer look: the open editor shows it
        }
    }

    provideTextDocumentContent(uri: vscode.Uri): string {
        return this.texts.get(uri.toString()) ?? '';
    }

    dispose(): void {
        this.changes.dispose();
    }
}

export class Review implements vscode.Disposable {
    private readonly documents = new ReviewDocuments();
    private readonly versions = new Map<string, StudentVersion>(); // student-side URI → whose file it is
    private readonly collected = new Map<string, CollectedMistake[]>(); // exercise → mistakes collected
    private readonly marked = vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
        overviewRulerColor: new vscode.ThemeColor('editorWarning.foreground'),
    });
    private readonly disposables: vscode.Disposable[];

    constructor(private readonly client: ColearnerClient) {
        this.disposables = [
            vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, this.documents),
            this.documents,
            this.marked,
            vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
        ];
    }

    dispose(): void {
        for (const d of this.disposables) {
            d.dispose();
        }
    }

    /** Opens the diff editor on an evidence file: base ↔ the student's version. */
    async showChange(argument: ChangeArgument): Promise<void> {
        const change = (await this.client.execute(SHOW_CHANGE, { ...argument, show: false })) as StudentChange;
        const folder = `/${change.who}/${change.exercise_id.slice(0, 8)}-${(change.evidence_id ?? '').slice(0, 8)}`;
        const base = vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `${folder}/base/${change.old_path ?? change.path}` });
        const theirs = vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `${folder}/${change.who}/${change.path}` });
        this.documents.put(base, change.base.text ?? '');
        this.documents.put(theirs, change.student.text ?? '');
        this.versions.set(theirs.toString(), { exercise_id: change.exercise_id, path: change.path, who: change.who });
        const notes = change.notes.length ? ` (${change.notes.join('; ')})` : '';
        await vscode.commands.executeCommand('vscode.diff', base, theirs, oneLine(change.title + notes, 200), { preview: false });
    }

    /** The selection in the student's version becomes a mistake on those lines of their file. */
    async addMistake(): Promise<void> {
        const editor = vscode.window.activeTextEditor;
        const version = editor ? this.versions.get(editor.document.uri.toString()) : undefined;
        if (!editor || !version) {
            void vscode.window.showWarningMessage(
                "colearner: select lines in the student's version first (open it with \"Show the student's change\"), then add the mistake.",
            );
            return;
        }
        const { start, end } = editor.selection;
        const first = start.line + 1;
        const last = Math.max(first, end.character === 0 && end.line > start.line ? end.line : end.line + 1);
        const where = `${oneLine(version.path, 120)}:${first}${last > first ? `-${last}` : ''}`;
        const text = await vscode.window.showInputBox({ prompt: `The mistake at ${where} (${oneLine(version.who, 60)}'s version)`, ignoreFocusOut: true });
        if (!text?.trim()) {
            return;
        }
        const mistakes = this.collected.get(version.exercise_id) ?? [];
        mistakes.push({ text: text.trim(), path: version.path, start_line: first, end_line: last });
        this.collected.set(version.exercise_id, mistakes);
        this.decorate();
        const choice = await vscode.window.showInformationMessage(
            `colearner: ${mistakes.length} mistake${mistakes.length === 1 ? '' : 's'} collected for ${oneLine(version.who, 60)}'s answer (${where} added).`,
            'Send Feedback…',
        );
        if (choice) {
            await this.sendFeedback(version.exercise_id);
        }
    }

    /** Sends feedback on an exercise with the mistakes collected for it. */
    async sendFeedback(exerciseId?: string): Promise<void> {
        const id = exerciseId ?? this.activeExercise() ?? (await this.pickCollected());
        if (!id) {
            void vscode.window.showWarningMessage(
                "colearner: no mistakes collected; select lines in the student's version and run \"Add a Mistake Here\" first.",
            );
            return;
        }
        const mistakes = this.collected.get(id) ?? [];
        const grades = mistakes.length ? ['revise', 'pass'] : ['pass', 'revise'];
        const grade = await vscode.window.showQuickPick(grades, {
            placeHolder: `Grade (${mistakes.length} mistake${mistakes.length === 1 ? '' : 's'} collected)`,
            ignoreFocusOut: true,
        });
        if (!grade) return;
        const nextStep = await vscode.window.showInputBox({ prompt: 'Next step for the student', ignoreFocusOut: true, validateInput: required });
        if (nextStep === undefined) return;
        const delta = await vscode.window.showInputBox({
            prompt: 'Confidence change, from -1 to 1',
            value: grade === 'pass' ? '0.2' : '-0.1',
            ignoreFocusOut: true,
            validateInput: (value) => (/^\s*-?\d+(\.\d+)?\s*$/.test(value) && Math.abs(Number(value)) <= 1 ? undefined : 'A number from -1 to 1'),
        });
        if (delta === undefined) return;
        const argument = { exercise_id: id, grade, mistakes, next_step: nextStep.trim(), confidence_delta: Number(delta) };
        await this.client.execute(SEND_FEEDBACK, argument);
        this.collected.delete(id);
        this.decorate();
        void vscode.window.showInformationMessage(
            `colearner: feedback sent (${grade}, ${mistakes.length} mistake${mistakes.length === 1 ? '' : 's'}).`,
        );
    }

    private activeExercise(): string | undefined {
        const editor = vscode.window.activeTextEditor;
        const version = editor ? this.versions.get(editor.document.uri.toString()) : undefined;
        return version?.exercise_id;
    }

    private async pickCollected(): Promise<string | undefined> {
        const ids = [...this.collected.keys()];
        if (ids.length <= 1) {
            return ids[0];
        }
        const who = (id: string) => [...this.versions.values()].find((v) => v.exercise_id === id)?.who ?? id.slice(0, 8);
        const picked = await vscode.window.showQuickPick(
            ids.map((id) => ({ label: oneLine(who(id), 60), description: `${this.collected.get(id)?.length ?? 0} mistakes`, id })),
            { placeHolder: 'Feedback on which answer?', ignoreFocusOut: true },
        );
        return picked?.id;
    }

    /** Marks the collected mistakes' lines in every visible student version. */
    private decorate(): void {
        for (const editor of vscode.window.visibleTextEditors) {
            const version = this.versions.get(editor.document.uri.toString());
            if (!version) continue;
            const mistakes = (this.collected.get(version.exercise_id) ?? []).filter((m) => m.path === version.path);
            editor.setDecorations(
                this.marked,
                mistakes.map((m) => ({
                    range: new vscode.Range(m.start_line - 1, 0, m.end_line - 1, 0),
                    hoverMessage: new vscode.MarkdownString().appendText(`mistake: ${m.text}`),
                })),
            );
        }
    }
}

function required(value: string): string | undefined {
    return value.trim() ? undefined : 'Needed';
}

/** The review's pieces: the diff documents, the queue's tree, their commands; the server's
 *  `colearner.showStudentChange` (lens, code action) opens the diff editor. The tree follows `changed`. */
export function registerReview(client: ColearnerClient, changed: vscode.Event<unknown>): vscode.Disposable[] {
    const review = new Review(client);
    const tree = new ReviewTree(client);
    const guarded = (run: (argument?: unknown) => Promise<void>) => async (argument?: unknown) => {
        try {
            await run(argument);
        } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            void vscode.window.showErrorMessage(message.startsWith('colearner:') ? message : `colearner: ${message}`);
        }
    };
    const show = guarded((argument) => review.showChange(argument as ChangeArgument));
    return [
        review,
        tree,
        changed(() => tree.refresh()),
        client.intercept(SHOW_CHANGE, (argument) => show(argument)),
        vscode.commands.registerCommand(SHOW_CHANGE_UI, show),
        vscode.commands.registerCommand(ReviewCommands.addMistake, guarded(() => review.addMistake())),
        vscode.commands.registerCommand(
            ReviewCommands.sendFeedback,
            guarded(() => review.sendFeedback()),
        ),
    ];
}
