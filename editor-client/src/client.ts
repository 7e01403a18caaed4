// The language client's lifecycle: start (when the folder is set up and Python
// can import the server), stop, restart, and the requests the UI makes.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, LanguageClientOptions, State } from 'vscode-languageclient/node';
import { Methods, Status } from './protocol';
import { checkServerImportable, resolveInterpreter, ServerLaunchError, serverOptions } from './serverLaunch';
import { openSetting, readSettings } from './settings';

const AGENT_CONFIG = path.join('.colearner', 'agent.yaml');

export type ConnectionState =
    | { kind: 'noFolder' }
    | { kind: 'notSetUp' }
    | { kind: 'starting' }
    | { kind: 'running' }
    | { kind: 'failed'; reason: string };

/** A request made while no server runs; the message says what to do. */
export class ServerNotRunningError extends Error {}

export class ColearnerClient implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private current: ConnectionState = { kind: 'starting' };
    private latestStatus: Status | undefined;
    // Start and stop run one after the other, never interleaved.
    private queue: Promise<void> = Promise.resolve();
    private readonly stateEvents = new vscode.EventEmitter<ConnectionState>();
    private readonly statusEvents = new vscode.EventEmitter<Status>();
    private readonly watcher = vscode.workspace.createFileSystemWatcher(`**/${AGENT_CONFIG}`, false, true, true);
    // Server commands the extension runs its own way (a lens's or a code action's), by id.
    private readonly intercepts = new Map<string, (argument: unknown) => Promise<unknown>>();
    readonly onState = this.stateEvents.event;
    readonly onStatus = this.statusEvents.event;

    constructor(private readonly output: vscode.OutputChannel) {
        // `colearner init` run after the window opened: start without a reload.
        this.watcher.onDidCreate(() => {
            if (this.current.kind === 'notSetUp') {
                void this.restart();
            }
        });
    }

    get state(): ConnectionState {
        return this.current;
    }

    /** The last `colearner/status` the server sent, while it runs. */
    get status(): Status | undefined {
        return this.latestStatus;
    }

    start(): Promise<void> {
        this.queue = this.queue.then(() => this.startNow());
        return this.queue;
    }

    restart(): Promise<void> {
        this.queue = this.queue.then(() => this.stopNow()).then(() => this.startNow());
        return this.queue;
    }

    stop(): Promise<void> {
        this.queue = this.queue.then(() => this.stopNow());
        return this.queue;
    }

    request<R>(method: string, params?: object): Promise<R> {
        return this.running().sendRequest<R>(method, params);
    }

    /** Runs one of the server's commands with its single object argument. */
    execute(command: string, argument: object): Promise<unknown> {
        return this.running().sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] });
    }

    /** Runs `handler` instead of sending `command` to the server when a lens or a code action
     *  names it (the handler may call the server's command itself, with other arguments). */
    intercept(command: string, handler: (argument: unknown) => Promise<unknown>): vscode.Disposable {
        this.intercepts.set(command, handler);
        return { dispose: () => this.intercepts.delete(command) };
    }

    showOutput(): void {
        this.output.show(true);
    }

    dispose(): void {
        this.watcher.dispose();
        void this.stop();
        this.stateEvents.dispose();
        this.statusEvents.dispose();
    }

    private running(): LanguageClient {
        if (!this.client || this.current.kind !== 'running') {
            throw new ServerNotRunningError(
                'colearner: the language server is not running; see the Colearner output, then run "Colearner: Restart Server".',
            );
        }
        return this.client;
    }

    private async startNow(): Promise<void> {
        const folder = vscode.workspace.workspaceFolders?.[0];
        if (!folder) {
            return this.setState({ kind: 'noFolder' });
        }
        if (!(await exists(path.join(folder.uri.fsPath, AGENT_CONFIG)))) {
            return this.setState({ kind: 'notSetUp' });
        }
        this.setState({ kind: 'starting' });
        try {
            const cwd = folder.uri.fsPath;
            const settings = readSettings(folder);
            const python = await resolveInterpreter(settings, cwd);
            await checkServerImportable(python, cwd);
            this.output.appendLine(`Starting: ${python} -m colearner_lsp serve ${settings.serverArgs.join(' ')} (in ${cwd})`);
            const client = new LanguageClient('colearner', 'Colearner', serverOptions(python, settings, cwd), this.clientOptions());
            client.onNotification(Methods.status, (status: Status) => {
                this.latestStatus = status;
                this.statusEvents.fire(status);
            });
            client.onDidChangeState((event) => this.followClientState(client, event.newState));
            this.client = client;
            await client.start();
            this.setState({ kind: 'running' });
        } catch (error) {
            await this.failed(error);
        }
    }

    private async stopNow(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.latestStatus = undefined;
        // A client whose start failed has no server left to stop.
        if (client?.needsStop()) {
            try {
                await client.dispose();
            } catch (error) {
                this.output.appendLine(`Stopping the server: ${String(error)}`);
            }
        }
    }

    private clientOptions(): LanguageClientOptions {
        return {
            documentSelector: [{ scheme: 'file' }],
            outputChannel: this.output,
            traceOutputChannel: this.output,
            middleware: {
                executeCommand: (command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown) => {
                    const own = this.intercepts.get(command);
                    return own ? own(args[0]) : next(command, args);
                },
            },
        };
    }

    private followClientState(client: LanguageClient, state: State): void {
        if (client !== this.client) {
            return; // an old client being stopped by a restart
        }
        if (state === State.Running) {
            this.setState({ kind: 'running' });
        } else if (state === State.Stopped) {
            this.latestStatus = undefined;
            this.setState({ kind: 'failed', reason: 'the language server stopped; see the Colearner output' });
        }
    }

    private async failed(error: unknown): Promise<void> {
        const reason = error instanceof Error ? error.message : String(error);
        this.output.appendLine(reason);
        await this.stopNow();
        this.setState({ kind: 'failed', reason });
        if (error instanceof ServerLaunchError) {
            void vscode.window.showErrorMessage(reason, 'Open Settings').then((choice) => {
                if (choice) {
                    void openSetting('python');
                }
            });
        }
        // Other start failures: vscode-languageclient has already shown its own message.
    }

    private setState(state: ConnectionState): void {
        this.current = state;
        this.stateEvents.fire(state);
    }
}

async function exists(file: string): Promise<boolean> {
    try {
        await fs.access(file);
        return true;
    } catch {
        return false;
    }
}
