// Wires the pieces together: the language client, the status bar, the tree,
// the comment threads, the dashboard and the palette commands. Each lives in
// its own module.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { registerCommands } from './commands';
import { DashboardPanel } from './dashboardPanel';
import { registerReview } from './review';
import { changeNeedsRestart } from './settings';
import { StatusBar } from './statusBar';
import { CommentThreads } from './threads';
import { SessionTree } from './treeView';

let client: ColearnerClient | undefined;

// The server publishes diagnostics whenever an exercise it shows changes (an
// answer, feedback, a moved anchor): the threads are asked for again then,
// at most this often.
const THREADS_DEBOUNCE_MS = 250;

export function activate(context: vscode.ExtensionContext): void {
    const output = vscode.window.createOutputChannel('Colearner');
    client = new ColearnerClient(output);
    const statusBar = new StatusBar();
    const threads = new CommentThreads(client);
    const tree = new SessionTree(client, threads);
    const dashboard = new DashboardPanel(client, threads);
    let timer: NodeJS.Timeout | undefined;
    const threadsSoon = () => {
        if (timer) {
            clearTimeout(timer);
        }
        timer = setTimeout(() => {
            timer = undefined;
            void threads.refresh();
        }, THREADS_DEBOUNCE_MS);
    };

    context.subscriptions.push(
        output,
        client,
        statusBar,
        threads,
        tree,
        dashboard,
        { dispose: () => timer && clearTimeout(timer) },
        client.onState((state) => {
            statusBar.showState(state, client?.status);
            if (state.kind === 'running') {
                void keepColearnerOutOfExplorer();
            }
            threadsSoon();
            tree.refresh();
        }),
        // Every status the server sends means something may have changed: redraw all views.
        client.onStatus((status) => {
            statusBar.showStatus(status);
            threadsSoon();
        }),
        vscode.languages.onDidChangeDiagnostics((event) => {
            if (event.uris.some((uri) => uri.scheme === 'file') && client?.state.kind === 'running') {
                threadsSoon();
            }
        }),
        // The threads carry every exercise: the tree, the badge, the status bar and the dashboard follow them.
        threads.onDidChange((data) => {
            statusBar.showWaiting(data);
            tree.refresh();
            void dashboard.refresh();
        }),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (changeNeedsRestart(event)) {
                void client?.restart();
            }
        }),
        ...registerCommands({ client, tree, dashboard, threads }),
        ...registerReview(client, threads.onDidChange),
    );
    // Not awaited: activation finishes at once; the status bar tells how the start goes.
    void client.start();
}

/**
 * `.colearner/` holds the ledger and keys, nothing a person edits: hide it in
 * the Explorer with a workspace `files.exclude` entry, unless the user has
 * said something about it already (at any level).
 */
async function keepColearnerOutOfExplorer(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
        return;
    }
    const config = vscode.workspace.getConfiguration('files', folder.uri);
    const seen = config.inspect<Record<string, boolean>>('exclude');
    const levels = [seen?.globalValue, seen?.workspaceValue, seen?.workspaceFolderValue];
    if (levels.some((level) => level && Object.keys(level).some((glob) => glob.includes('.colearner')))) {
        return;
    }
    try {
        await config.update('exclude', { ...(seen?.workspaceValue ?? {}), '**/.colearner': true }, vscode.ConfigurationTarget.Workspace);
    } catch {
        // A read-only workspace: the Explorer keeps showing the folder, nothing else changes.
    }
}

export async function deactivate(): Promise<void> {
    await client?.stop();
    client = undefined;
}
