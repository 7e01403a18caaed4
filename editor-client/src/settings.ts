// The extension's settings, all under `colearner.*` (see package.json for their
// descriptions). `colearner.trace.server` is read by vscode-languageclient itself.

import * as vscode from 'vscode';

export const SECTION = 'colearner';

export interface Settings {
    /** Interpreter that runs the server; empty means "find python3/python on PATH". */
    python: string;
    /** Extra arguments appended to `colearner serve`. */
    serverArgs: string[];
}

export function readSettings(folder: vscode.WorkspaceFolder): Settings {
    const config = vscode.workspace.getConfiguration(SECTION, folder);
    return {
        python: expandFolderVariable(config.get<string>('python', '').trim(), folder),
        serverArgs: config.get<string[]>('serverArgs', []).map((arg) => expandFolderVariable(arg, folder)),
    };
}

/** True when a change needs the server to be started again. */
export function changeNeedsRestart(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(`${SECTION}.python`) || event.affectsConfiguration(`${SECTION}.serverArgs`);
}

export function openSetting(name: keyof Settings): Thenable<unknown> {
    return vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${name}`);
}

// Lets a setting name the project's own virtualenv: "${workspaceFolder}/.venv/bin/python".
function expandFolderVariable(value: string, folder: vscode.WorkspaceFolder): string {
    return value.split('${workspaceFolder}').join(folder.uri.fsPath);
}
