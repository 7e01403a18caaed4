// The status bar item: what waits for you ("2 to answer", "3 to review"), and
// only when something is wrong, that the broker is out of reach; its tooltip
// has the facts (who, broker, outbox, stage) and its menu the items waiting.

import * as vscode from 'vscode';
import { ConnectionState } from './client';
import { oneLine } from './display';
import { Status, Threads } from './protocol';
import { waitingText, waitsForYou } from './viewModel';

export const SHOW_STATUS_COMMAND = 'colearner.ui.showStatus';

export class StatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem('colearner.status', vscode.StatusBarAlignment.Left, 50);
    private waiting: number | undefined;
    private status: Status | undefined;

    constructor() {
        this.item.name = 'Colearner';
        this.item.command = SHOW_STATUS_COMMAND;
        this.showState({ kind: 'starting' });
        this.item.show();
    }

    /** Shows the connection state; once running, the server's last status if it sent one already. */
    showState(state: ConnectionState, status?: Status): void {
        if (state.kind !== 'running') {
            this.status = undefined;
        }
        if (state.kind === 'running' && status) {
            return this.showStatus(status);
        }
        this.item.backgroundColor = undefined;
        switch (state.kind) {
            case 'noFolder':
                this.item.hide();
                return;
            case 'notSetUp':
                this.set('$(mortar-board) colearner: not set up', 'No .colearner/agent.yaml here: run `colearner init --role student|coach --id NAME` in this folder.');
                break;
            case 'starting':
                this.set('$(sync~spin) colearner: starting', 'Starting the colearner language server');
                break;
            case 'running':
                this.set('$(mortar-board) colearner: connecting', 'Waiting for the server\'s first status');
                break;
            case 'failed':
                this.set('$(error) colearner: not running', state.reason);
                this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
                break;
        }
        this.item.show();
    }

    /** What waits for you, from the latest threads (undefined: not known yet). */
    showWaiting(threads: Threads | undefined): void {
        this.waiting = threads ? threads.threads.filter((t) => waitsForYou(threads.role, t)).length : undefined;
        if (this.status) {
            this.showStatus(this.status);
        }
    }

    showStatus(status: Status): void {
        this.status = status;
        this.set(statusText(status, this.waiting), [...statusDetails(status), '', 'Click for what waits for you.'].join('\n'));
        this.item.backgroundColor = busFailing(status)
            ? new vscode.ThemeColor('statusBarItem.errorBackground')
            : status.broker === 'offline'
              ? new vscode.ThemeColor('statusBarItem.warningBackground')
              : undefined;
        this.item.show();
    }

    dispose(): void {
        this.item.dispose();
    }

    private set(text: string, tooltip: string): void {
        this.item.text = text;
        this.item.tooltip = tooltip;
    }
}

/** `$(mortar-board) colearner: 2 to answer`; `… · offline · 3 to send` when the broker is out of reach. */
export function statusText(status: Status, waiting?: number): string {
    const icon = busFailing(status) ? '$(error)' : status.broker === 'connected' ? '$(mortar-board)' : '$(debug-disconnect)';
    const todo = waiting === undefined ? oneLine(status.identity, 40) : (waitingText(status.role, waiting) ?? `nothing to ${status.role === 'coach' ? 'review' : 'answer'}`);
    const parts = [todo];
    if (busFailing(status)) {
        parts.push('not receiving');
    } else if (status.broker !== 'connected') {
        parts.push('offline');
    }
    if (status.outbox > 0 && status.broker !== 'connected') {
        parts.push(`${status.outbox} to send`);
    }
    return `${icon} colearner: ${parts.join(' · ')}`;
}

/** One line per fact, for the tooltip and the details quick pick. */
export function statusDetails(status: Status): string[] {
    const lines = [
        `Role: ${status.role}`,
        `Identity: ${oneLine(status.identity)}`,
        `Broker: ${status.broker}`,
        `Outbox: ${status.outbox} event${status.outbox === 1 ? '' : 's'} waiting to be sent`,
        `Stage: ${status.stage ? oneLine(status.stage) : 'no session'}`,
        `Session: ${status.session_id ? oneLine(status.session_id) : 'none'}`,
    ];
    const bus = status.bus;
    if (bus && busFailing(status)) {
        lines.push(`Receiving and sending stopped: ${oneLine(bus.error ?? 'unknown error', 200)}; restarting by itself (${bus.restarts} so far)`);
    } else if (bus && bus.restarts > 0) {
        lines.push(`Kafka loop restarted ${bus.restarts} time${bus.restarts === 1 ? '' : 's'}; last failure: ${oneLine(bus.error ?? 'unknown', 200)}`);
    }
    if (typeof status.students === 'number') {
        lines.push(`Students: ${status.students}`);
    }
    return lines;
}

function busFailing(status: Status): boolean {
    return status.bus?.state === 'failing';
}
