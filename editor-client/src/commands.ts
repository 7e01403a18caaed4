// The palette commands. Each asks what it needs, then runs the server's own
// command (`colearner.acknowledge`, …) with one object argument. Their ids are
// `colearner.ui.*` because vscode-languageclient registers the server's names.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine } from './display';
import { DashboardPanel } from './dashboardPanel';
import { Anchor, anchorRange, ResponseDocument, ServerCommands, STAGES } from './protocol';
import {
    activeRelativePath,
    askNumber,
    askText,
    ExerciseArgument,
    inboxSession,
    parseConfidence,
    pickExercise,
    pickSession,
    splitList,
} from './prompts';
import { SHOW_STATUS_COMMAND, statusDetails } from './statusBar';
import { CommentThreads } from './threads';
import { nextLabel, waitingText, waitsForYou } from './viewModel';
import { OPEN_ANCHOR_COMMAND, SessionTree } from './treeView';

const UiCommands = {
    restart: 'colearner.restart',
    openDashboard: 'colearner.ui.openDashboard',
    refresh: 'colearner.ui.refresh',
    acknowledge: 'colearner.ui.acknowledge',
    respond: 'colearner.ui.respond',
    attachEvidence: 'colearner.ui.attachEvidence',
    submitProgress: 'colearner.ui.submitProgress',
    assignFromSelection: 'colearner.ui.assignFromSelection',
    sendFeedback: 'colearner.ui.sendFeedback',
    requestEvidence: 'colearner.ui.requestEvidence',
    setScope: 'colearner.ui.setScope',
    advanceSession: 'colearner.ui.advanceSession',
    threadReply: 'colearner.ui.threadReply',
    threadEvidence: 'colearner.ui.threadEvidence',
    openThread: 'colearner.ui.openThread',
    sendResponse: 'colearner.ui.sendResponse',
} as const;

interface Views {
    client: ColearnerClient;
    tree: SessionTree;
    dashboard: DashboardPanel;
    threads: CommentThreads;
}

type Handler = (argument?: ExerciseArgument) => unknown; // a value, or a promise of one: awaited either way

export function registerCommands(views: Views): vscode.Disposable[] {
    const { client, tree, dashboard, threads } = views;
    const handlers: Record<string, Handler> = {
        [UiCommands.restart]: () => client.restart(),
        [UiCommands.openDashboard]: () => dashboard.show(),
        [UiCommands.refresh]: () => {
            tree.refresh();
            void threads.refresh();
            return dashboard.refresh();
        },
        [SHOW_STATUS_COMMAND]: () => showStatus(views),
        [OPEN_ANCHOR_COMMAND]: (anchor) => openAnchor(anchor as unknown as Anchor),
        [UiCommands.acknowledge]: (arg) => acknowledge(views, arg),
        [UiCommands.respond]: (arg) => respond(views, arg),
        [UiCommands.attachEvidence]: (arg) => attachEvidence(views, arg),
        [UiCommands.submitProgress]: () => submitProgress(views),
        [UiCommands.assignFromSelection]: () => assignFromSelection(views),
        [UiCommands.sendFeedback]: (arg) => sendFeedback(views, arg),
        [UiCommands.requestEvidence]: (arg) => requestEvidence(views, arg),
        [UiCommands.setScope]: () => setScope(views),
        [UiCommands.advanceSession]: () => advanceSession(views),
        [UiCommands.threadReply]: (arg) => threadReply(views, arg as unknown as vscode.CommentReply),
        [UiCommands.threadEvidence]: (arg) => threadEvidence(views, arg as unknown as vscode.CommentThread),
        [UiCommands.openThread]: (arg) => openThread(views, arg),
        [UiCommands.sendResponse]: (arg) => sendResponse(views, arg as unknown as vscode.Uri | undefined),
    };
    return Object.entries(handlers).map(([id, handler]) =>
        vscode.commands.registerCommand(id, async (argument?: ExerciseArgument) => {
            try {
                await handler(argument);
            } catch (error) {
                void vscode.window.showErrorMessage(errorText(error));
            }
        }),
    );
}

/** Runs the server's command, then says it is done and refreshes the views. */
async function send(views: Views, command: string, argument: object, done: string): Promise<void> {
    await views.client.execute(command, argument);
    void vscode.window.showInformationMessage(`colearner: ${done}`);
    views.tree.refresh();
    void views.threads.refresh();
}

/** The reply box of an exercise's thread: the student's reply is an answer; the coach's is
 *  feedback (pass or revise, asked) or a request for evidence. */
async function threadReply(views: Views, reply: vscode.CommentReply): Promise<void> {
    const exercise = reply?.thread ? views.threads.exerciseOf(reply.thread) : undefined;
    if (!exercise) {
        reply?.thread?.dispose();
        void vscode.window.showWarningMessage('colearner: this thread is not on an exercise; reply in the exercise\'s own thread.');
        return;
    }
    if (reply.thread.comments.length === 0) {
        reply.thread.dispose(); // a thread the user opened on the exercise's lines: the reply goes to the exercise's own
    }
    const text = reply.text.trim();
    if (!text) {
        void vscode.window.showWarningMessage('colearner: write your reply first.');
        return;
    }
    const id = exercise.exercise_id;
    const name = `"${oneLine(exercise.topic, 60)}" (${oneLine(exercise.short_id)})`;
    if (views.client.status?.role !== 'coach') {
        await send(views, ServerCommands.respond, { exercise_id: id, text }, `answer sent on ${name}.`);
        return;
    }
    type Choice = vscode.QuickPickItem & { grade?: 'pass' | 'revise' };
    const choice = await vscode.window.showQuickPick<Choice>(
        [
            { label: '$(pass) Pass', description: 'the answer meets what you expected; your reply is the next step', grade: 'pass' },
            { label: '$(edit) Request revision', description: 'send it back; your reply says what to change', grade: 'revise' },
            { label: '$(file-add) Request evidence', description: 'ask for files; your reply is the reason' },
        ],
        { placeHolder: `Your reply on ${name} is…`, ignoreFocusOut: true },
    );
    if (!choice) return;
    if (choice.grade) {
        const argument = { exercise_id: id, grade: choice.grade, mistakes: [], next_step: text, confidence_delta: choice.grade === 'pass' ? 0.2 : -0.1 };
        await send(views, ServerCommands.sendFeedback, argument, `feedback sent (${choice.grade}) on ${name}.`);
        return;
    }
    const paths = await askText({ prompt: 'Paths or globs to ask for, comma-separated', value: exercise.path ?? '' });
    if (paths === undefined) return;
    await send(views, ServerCommands.requestEvidence, { exercise_id: id, paths: splitList(paths), reason: text }, `evidence requested on ${name}.`);
}

async function threadEvidence(views: Views, thread: vscode.CommentThread): Promise<void> {
    const exercise = thread ? views.threads.exerciseOf(thread) : undefined;
    await attachEvidence(views, exercise ? { exercise_id: exercise.exercise_id } : undefined);
}

async function openThread(views: Views, given?: ExerciseArgument): Promise<void> {
    const exerciseId = typeof given?.exercise_id === 'string' ? given.exercise_id : undefined;
    if (!exerciseId) return;
    if (!(await views.threads.reveal(exerciseId))) {
        await views.threads.refresh();
        if (!(await views.threads.reveal(exerciseId))) {
            void vscode.window.showWarningMessage('colearner: that exercise has no thread in this checkout (its file is not here).');
        }
    }
}

const notPassed = (exercise: { state: string }) => exercise.state !== 'passed';

async function acknowledge(views: Views, given?: ExerciseArgument): Promise<void> {
    const exerciseId = await pickExercise(views.client, given, 'Acknowledge which exercise?', (e) => e.state === 'assigned');
    if (exerciseId) {
        await send(views, ServerCommands.acknowledge, { exercise_id: exerciseId }, 'exercise acknowledged.');
    }
}

/** Opens the exercise's response document, as its code lens and code action do: one place to write
 *  an answer, with the evidence the server lists (the anchored file when it changed and the scope
 *  lets it go). A short answer can go from the exercise's thread instead. */
async function respond(views: Views, given?: ExerciseArgument): Promise<void> {
    const exerciseId = await pickExercise(views.client, given, 'Respond to which exercise?', notPassed);
    if (!exerciseId) return;
    const opened = (await views.client.execute(ServerCommands.respond, { exercise_id: exerciseId })) as ResponseDocument;
    if (!opened.shown) {
        await vscode.window.showTextDocument(vscode.Uri.parse(opened.document));
    }
}

/**
 * The response document's "Send Response" button (editor title bar): what its "Send response" code
 * lens runs, from the moment the editor shows, where the lens waits for VS Code's first code-lens
 * pass over a new document. Which document is a response, and for which exercise, is the server's
 * to say: the argument is taken from the server's own lens.
 */
async function sendResponse(views: Views, given?: vscode.Uri): Promise<void> {
    const uri = given instanceof vscode.Uri ? given : vscode.window.activeTextEditor?.document.uri;
    if (!uri) return;
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[] | undefined>('vscode.executeCodeLensProvider', uri);
    const argument = lenses?.find((lens) => lens.command?.command === ServerCommands.respond)?.command?.arguments?.[0] as unknown;
    if (typeof argument !== 'object' || argument === null) {
        void vscode.window.showWarningMessage('colearner: this is not the response document of an exercise here.');
        return;
    }
    await send(views, ServerCommands.respond, argument, 'response sent.');
}

async function attachEvidence(views: Views, given?: ExerciseArgument): Promise<void> {
    const exerciseId = await pickExercise(views.client, given, 'Attach evidence to which exercise?', notPassed);
    if (!exerciseId) return;
    const text = await askText({
        prompt: 'Paths to attach, comma-separated (empty: what the scope allows)',
        value: activeRelativePath(),
        optional: true,
    });
    if (text === undefined) return;
    const paths = splitList(text);
    await send(views, ServerCommands.attachEvidence, { exercise_id: exerciseId, ...(paths.length ? { paths } : {}) }, 'evidence attached.');
}

async function submitProgress(views: Views): Promise<void> {
    const sessionId = await pickSession(views.client, 'Progress in which session?');
    if (!sessionId) return;
    const steps = (await inboxSession(views.client, sessionId))?.plan.steps ?? [];
    const picked = await vscode.window.showQuickPick(
        steps.map((step) => ({ label: oneLine(step.topic, 120), description: oneLine(step.id), picked: step.status === 'done', step })),
        { canPickMany: true, placeHolder: 'Which plan steps have you completed?', ignoreFocusOut: true },
    );
    if (!picked) return;
    const text = await askText({
        prompt: 'Confidence per topic, 0 to 1 (e.g. loops=0.8, recursion=0.5)',
        value: picked.map((item) => `${item.step.topic}=0.5`).join(', '),
        optional: true,
        validateInput: (value) => {
            const parsed = parseConfidence(value);
            return typeof parsed === 'string' ? parsed : undefined;
        },
    });
    if (text === undefined) return;
    const argument = { session_id: sessionId, completed: picked.map((item) => item.step.id), confidence: parseConfidence(text) };
    await send(views, ServerCommands.submitProgress, argument, 'progress sent.');
}

async function assignFromSelection(views: Views): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== 'file') {
        void vscode.window.showWarningMessage('colearner: select the lines of a file to anchor the exercise to.');
        return;
    }
    const selection = editor.selection;
    const range = selection.isEmpty ? editor.document.lineAt(selection.active.line).range : selection;
    const sessionId = await pickSession(views.client, 'Assign to which student?');
    if (!sessionId) return;
    const topic = await askText({ prompt: 'Topic', placeHolder: 'e.g. recursion' });
    if (topic === undefined) return;
    const exercise = await askText({ prompt: 'Exercise: what should the student do?' });
    if (exercise === undefined) return;
    const expected = await askText({ prompt: 'Expected: what does a good answer show?' });
    if (expected === undefined) return;
    const tests = await askText({ prompt: 'Test commands, separated by ";" (optional)', placeHolder: 'pytest tests/test_x.py', optional: true });
    if (tests === undefined) return;
    const argument = {
        uri: editor.document.uri.toString(),
        range: {
            start: { line: range.start.line, character: range.start.character },
            end: { line: range.end.line, character: range.end.character },
        },
        topic,
        exercise,
        expected,
        tests: splitList(tests, ';'),
        session_id: sessionId,
    };
    await send(views, ServerCommands.assign, argument, `exercise assigned on ${path.basename(editor.document.fileName)}:${range.start.line + 1}.`);
}

async function sendFeedback(views: Views, given?: ExerciseArgument): Promise<void> {
    const exerciseId = await pickExercise(views.client, given, 'Feedback on which exercise?');
    if (!exerciseId) return;
    const grade = await vscode.window.showQuickPick(['pass', 'revise'], { placeHolder: 'Grade', ignoreFocusOut: true });
    if (!grade) return;
    const mistakes = await askText({ prompt: 'Mistakes, separated by ";" (optional)', optional: true });
    if (mistakes === undefined) return;
    const nextStep = await askText({ prompt: 'Next step for the student' });
    if (nextStep === undefined) return;
    const delta = await askNumber('Confidence change, from -1 to 1', grade === 'pass' ? '0.2' : '-0.1', -1, 1);
    if (delta === undefined) return;
    const argument = { exercise_id: exerciseId, grade, mistakes: splitList(mistakes, ';'), next_step: nextStep, confidence_delta: delta };
    await send(views, ServerCommands.sendFeedback, argument, `feedback sent (${grade}).`);
}

async function requestEvidence(views: Views, given?: ExerciseArgument): Promise<void> {
    const exerciseId = await pickExercise(views.client, given, 'Request evidence for which exercise?');
    if (!exerciseId) return;
    const paths = await askText({ prompt: 'Paths or globs, comma-separated', placeHolder: 'src/**/*.py, tests/test_x.py' });
    if (paths === undefined) return;
    const reason = await askText({ prompt: 'Why do you need them?' });
    if (reason === undefined) return;
    await send(views, ServerCommands.requestEvidence, { exercise_id: exerciseId, paths: splitList(paths), reason }, 'evidence requested.');
}

async function setScope(views: Views): Promise<void> {
    const sessionId = await pickSession(views.client, 'Scope of which student?');
    if (!sessionId) return;
    const allow = await askText({ prompt: 'Paths the student may share: globs, comma-separated', placeHolder: 'src/**, tests/**' });
    if (allow === undefined) return;
    const deny = await askText({ prompt: 'Paths never shared: globs, comma-separated (optional)', optional: true });
    if (deny === undefined) return;
    const share = await vscode.window.showQuickPick(
        [
            { label: 'hashes', description: 'paths, blob hashes and line counts only' },
            { label: 'diffstat', description: 'plus lines added and removed' },
            { label: 'diff', description: 'plus the changes themselves' },
        ],
        { placeHolder: 'What evidence may carry', ignoreFocusOut: true },
    );
    if (!share) return;
    const maxFiles = await askText({
        prompt: 'Most files per snapshot (optional)',
        optional: true,
        validateInput: (value) => (value.trim() === '' || /^[1-9]\d*$/.test(value.trim()) ? undefined : 'A whole number, or empty'),
    });
    if (maxFiles === undefined) return;
    const argument = {
        session_id: sessionId,
        allow: splitList(allow),
        deny: splitList(deny),
        share: share.label,
        ...(maxFiles.trim() ? { max_files: Number(maxFiles) } : {}),
    };
    await send(views, ServerCommands.setScope, argument, 'scope sent.');
}

async function advanceSession(views: Views): Promise<void> {
    const sessionId = await pickSession(views.client, 'Advance which session?');
    if (!sessionId) return;
    const to = await vscode.window.showQuickPick([...STAGES], { placeHolder: 'Move the session to', ignoreFocusOut: true });
    if (!to) return;
    const reason = await askText({ prompt: 'Reason' });
    if (reason === undefined) return;
    await send(views, ServerCommands.advanceSession, { session_id: sessionId, to, reason }, `session moved to ${to}.`);
}

async function openAnchor(anchor: Anchor): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return;
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, anchor.path));
    const range = anchorRange(anchor);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(range.start, range.start) });
    const editor = vscode.window.activeTextEditor;
    editor?.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

async function showStatus(views: Views): Promise<void> {
    const { client, dashboard, threads } = views;
    const status = client.status;
    const state = client.state;
    const facts = status ? statusDetails(status) : [state.kind === 'failed' ? `Not running: ${state.reason}` : `Server: ${state.kind}`];
    type Item = vscode.QuickPickItem & { run?: () => unknown };
    const role = status?.role;
    const waiting = role ? (threads.data?.threads ?? []).filter((t) => waitsForYou(role, t)) : [];
    const todo: Item[] = waiting.map((t) => ({
        label: `$(comment-discussion) ${nextLabel(t.next) ?? 'Open'}: ${oneLine(t.topic, 80)}`,
        description: `${role === 'coach' ? `${oneLine(t.student, 40)} · ` : ''}${oneLine(t.short_id)}${t.path ? ` · ${oneLine(t.path, 80)}:${t.range?.start_line ?? ''}` : ''}`,
        run: () => openThread(views, { exercise_id: t.exercise_id }),
    }));
    const items: Item[] = [
        ...(todo.length
            ? [{ label: waitingText(role ?? 'student', todo.length) ?? '', kind: vscode.QuickPickItemKind.Separator }, ...todo]
            : status
              ? [{ label: role === 'coach' ? 'Nothing waits for your review.' : 'Nothing waits for your answer.' }]
              : []),
        { label: 'Status', kind: vscode.QuickPickItemKind.Separator },
        ...facts.map((label): Item => ({ label })),
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        ...(role === 'coach' ? [{ label: '$(dashboard) Open dashboard', run: () => dashboard.show() }] : []),
        { label: '$(debug-restart) Restart server', run: () => client.restart() },
        { label: '$(output) Show output', run: () => client.showOutput() },
    ];
    const choice = await vscode.window.showQuickPick(items, { title: 'Colearner: what waits for you' });
    await choice?.run?.();
}

function errorText(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return message.startsWith('colearner:') ? message : `colearner: ${message}`;
}
