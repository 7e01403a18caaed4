// How the language server is started: which Python, checked before use, and
// the command line `python -m colearner_lsp serve [serverArgs]` in the folder.

import { execFile } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Executable, ServerOptions } from 'vscode-languageclient/node';
import { Settings } from './settings';

/** A problem the user fixes (install colearner, set colearner.python); its message says how. */
export class ServerLaunchError extends Error {}

const IMPORT_CHECK_TIMEOUT_MS = 30_000;

/** The configured interpreter, or the first python3/python on PATH. */
export async function resolveInterpreter(settings: Settings, folder: string): Promise<string> {
    if (settings.python) {
        return path.isAbsolute(settings.python) ? settings.python : path.resolve(folder, settings.python);
    }
    const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir.length > 0);
    for (const name of ['python3', 'python']) {
        for (const dir of dirs) {
            const candidate = path.join(dir, name);
            if (await isExecutable(candidate)) {
                return candidate;
            }
        }
    }
    throw new ServerLaunchError(
        'colearner: no python3 or python on PATH. Install Python 3.11+ and `pip install colearner`, or set colearner.python.',
    );
}

/** Fails with the fix when `python` cannot import the server package. */
export function checkServerImportable(python: string, folder: string): Promise<void> {
    return new Promise((resolve, reject) => {
        execFile(
            python,
            ['-c', 'import colearner_lsp'],
            { cwd: folder, timeout: IMPORT_CHECK_TIMEOUT_MS },
            (error, _stdout, stderr) => {
                if (!error) {
                    resolve();
                    return;
                }
                const cause = (stderr.trim().split('\n').pop() ?? '') || error.message;
                reject(
                    new ServerLaunchError(
                        `colearner: ${python} cannot import colearner_lsp (${cause}). ` +
                            `Fix: pip install colearner into ${python} or set colearner.python.`,
                    ),
                );
            },
        );
    });
}

/** The server's command line, run in the workspace folder, speaking LSP on stdin/stdout. */
export function serverOptions(python: string, settings: Settings, folder: string): ServerOptions {
    // No `transport`: the client then talks over the process's stdio as is, where
    // TransportKind.stdio would append a `--stdio` that `colearner serve` does not take.
    const run: Executable = {
        command: python,
        args: ['-m', 'colearner_lsp', 'serve', ...settings.serverArgs],
        options: { cwd: folder },
    };
    return { run, debug: run };
}

async function isExecutable(file: string): Promise<boolean> {
    try {
        await fs.access(file, fsConstants.X_OK);
        return (await fs.stat(file)).isFile();
    } catch {
        return false;
    }
}
