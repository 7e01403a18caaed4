// Wires the pieces together: the language client, the status bar, the tree,
// the dashboard and the palette commands. Each lives in its own module.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { registerCommands } from './commands';
import { DashboardPanel } from './dashboardPanel';
import { changeNeedsRestart } from './settings';
import { StatusBar } from './statusBar';
import { SessionTree } from './treeView';

let client: ColearnerClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const output = vscode.window.createOutputChannel('Colearner');
    client = new ColearnerClient(output);
    const statusBar = new StatusBar();
    const tree = new SessionTree(client);
    const dashboard = new DashboardPanel(client);

    context.subscriptions.push(
        output,
        client,
        statusBar,
        tree,
        dashboard,
        client.onState((state) => {
            statusBar.showState(state, client?.status);
            tree.refresh();
        }),
        // Every status the server sends means something may have changed: redraw all views.
        client.onStatus((status) => {
            statusBar.showStatus(status);
            tree.refresh();
            void dashboard.refresh();
        }),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (changeNeedsRestart(event)) {
                void client?.restart();
            }
        }),
        ...registerCommands({ client, tree, dashboard }),
    );
    // Not awaited: activation finishes at once; the status bar tells how the start goes.
    void client.start();
}

export async function deactivate(): Promise<void> {
    await client?.stop();
    client = undefined;
}
