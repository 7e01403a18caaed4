// The questions the palette commands ask: which exercise, which session, and
// small validated inputs. Every function returns undefined when the user cancels.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine } from './display';
import { Dashboard, diagnosticData, Inbox, InboxSession, Methods } from './protocol';

/** An argument a command may be given instead of asking (e.g. by a server code action). */
export interface ExerciseArgument {
    exercise_id?: unknown;
}

/** Which exercises a command offers, by state (e.g. not yet passed). */
export type ExerciseFilter = (exercise: { state: string }) => boolean;

interface ExerciseChoice extends vscode.QuickPickItem {
    exerciseId: string;
}

/**
 * The exercise to act on: the one passed in, else the colearner diagnostic
 * under the cursor, else one picked from the inbox (student) or the
 * dashboard (coach).
 */
export async function pickExercise(
    client: ColearnerClient,
    given: ExerciseArgument | undefined,
    placeHolder: string,
    relevant: ExerciseFilter = () => true,
): Promise<string | undefined> {
    if (typeof given?.exercise_id === 'string') {
        return given.exercise_id;
    }
    let choices = exercisesUnderCursor();
    if (choices.length === 0) {
        choices = client.status?.role === 'coach' ? await coachExercises(client, relevant) : await studentExercises(client, relevant);
    }
    if (choices.length === 1) {
        return choices[0].exerciseId;
    }
    if (choices.length === 0) {
        return askText({ prompt: 'Exercise id', placeHolder: 'No exercise found here: paste its id' });
    }
    return (await vscode.window.showQuickPick(choices, { placeHolder, matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true }))
        ?.exerciseId;
}

/** The session to act on; asks only when there is more than one. */
export async function pickSession(client: ColearnerClient, placeHolder: string): Promise<string | undefined> {
    const choices: (vscode.QuickPickItem & { sessionId: string })[] =
        client.status?.role === 'coach'
            ? (await client.request<Dashboard>(Methods.dashboard)).students.flatMap((row) =>
                  row.session_id
                      ? [{ label: oneLine(row.student), description: oneLine(row.stage), detail: oneLine(row.session_id), sessionId: row.session_id }]
                      : [],
              )
            : (await client.request<Inbox>(Methods.inbox)).sessions.map((session) => ({
                  label: `Session with ${session.coach ? oneLine(session.coach) : 'your coach'}`,
                  description: oneLine(session.stage),
                  detail: oneLine(session.session_id),
                  sessionId: session.session_id,
              }));
    if (choices.length === 0) {
        void vscode.window.showWarningMessage('colearner: no coaching session yet.');
        return undefined;
    }
    if (choices.length === 1) {
        return choices[0].sessionId;
    }
    return (await vscode.window.showQuickPick(choices, { placeHolder, ignoreFocusOut: true }))?.sessionId;
}

/** The student's session with this id, as the inbox shows it. */
export async function inboxSession(client: ColearnerClient, sessionId: string): Promise<InboxSession | undefined> {
    return (await client.request<Inbox>(Methods.inbox)).sessions.find((session) => session.session_id === sessionId);
}

export function askText(options: vscode.InputBoxOptions & { optional?: boolean }): Thenable<string | undefined> {
    const { optional, ...box } = options;
    return vscode.window.showInputBox({
        ignoreFocusOut: true,
        validateInput: optional ? undefined : (value) => (value.trim() ? undefined : 'Required'),
        ...box,
    });
}

/** A number in [min, max]. */
export async function askNumber(prompt: string, value: string, min: number, max: number): Promise<number | undefined> {
    const text = await askText({
        prompt,
        value,
        validateInput: (input) => {
            const n = Number(input);
            return input.trim() !== '' && Number.isFinite(n) && n >= min && n <= max ? undefined : `A number from ${min} to ${max}`;
        },
    });
    return text === undefined ? undefined : Number(text);
}

/** "a, b,c" → ["a", "b", "c"]. */
export function splitList(text: string, separator: string | RegExp = ','): string[] {
    return text
        .split(separator)
        .map((part) => part.trim())
        .filter((part) => part.length > 0);
}

/** "loops=0.8, recursion=0.5" → {loops: 0.8, recursion: 0.5}; a string says what is wrong. */
export function parseConfidence(text: string): Record<string, number> | string {
    const confidence: Record<string, number> = {};
    for (const pair of splitList(text)) {
        const [topic, value, ...rest] = pair.split('=').map((part) => part.trim());
        const n = Number(value);
        if (!topic || value === undefined || value === '' || rest.length || !Number.isFinite(n) || n < 0 || n > 1) {
            return `"${pair}": write topic=number, the number from 0 to 1`;
        }
        confidence[topic] = n;
    }
    return confidence;
}

/** The workspace-relative path of the active editor's file, to offer as evidence. */
export function activeRelativePath(): string {
    const uri = vscode.window.activeTextEditor?.document.uri;
    return uri?.scheme === 'file' ? vscode.workspace.asRelativePath(uri, false) : '';
}

function exercisesUnderCursor(): ExerciseChoice[] {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
        return [];
    }
    const cursor = editor.selection.active;
    const seen = new Set<string>();
    const choices: ExerciseChoice[] = [];
    for (const diagnostic of vscode.languages.getDiagnostics(editor.document.uri)) {
        const data = diagnosticData(diagnostic);
        if (data && !seen.has(data.exercise_id) && diagnostic.range.start.line <= cursor.line && cursor.line <= diagnostic.range.end.line) {
            seen.add(data.exercise_id);
            choices.push({ label: oneLine(diagnostic.message.split('\n')[0]), description: oneLine(data.kind), exerciseId: data.exercise_id });
        }
    }
    return choices;
}

async function studentExercises(client: ColearnerClient, relevant: ExerciseFilter): Promise<ExerciseChoice[]> {
    const inbox = await client.request<Inbox>(Methods.inbox);
    return inbox.sessions.flatMap((session) =>
        session.exercises.filter(relevant).map((exercise) => ({
            label: oneLine(exercise.topic, 120),
            description: oneLine(exercise.anchor ? `${exercise.state} · ${exercise.anchor.path}:${exercise.anchor.start_line}` : exercise.state),
            detail: oneLine(exercise.exercise, 300),
            exerciseId: exercise.exercise_id,
        })),
    );
}

// The coach has no inbox: the dashboard lists every student's exercises.
async function coachExercises(client: ColearnerClient, relevant: ExerciseFilter): Promise<ExerciseChoice[]> {
    const dashboard = await client.request<Dashboard>(Methods.dashboard);
    return dashboard.students.flatMap((row) =>
        (row.exercises ?? []).filter(relevant).map((exercise) => ({
            label: oneLine(exercise.topic, 120),
            description: oneLine(`${row.student} · ${exercise.state}`),
            exerciseId: exercise.exercise_id,
        })),
    );
}
