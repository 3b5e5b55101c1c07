/**
 * The life of a process a parent starts with an IPC channel: the demo's
 * members (`demo-node.ts`) and the chaos suite's (`test/chaos/member-process.ts`).
 * Ctrl-C reaches the whole process group, so the parent decides what happens
 * to its children; a child whose parent goes away exits, unless it is
 * stopping on purpose; a crash is reported to the parent as `fatal` before
 * the child exits; and the child's settings come in the first `init` message.
 */

/** An error as one line: its name and message. */
export function describeError (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export interface IpcChild<Init, Out> {
  /** The settings the parent sent first */
  init: Init
  /** Sends a message to the parent while it is connected */
  send(message: Out): void
  /** Sends a last message, and exits once it is on its way */
  sendAndExit(message: Out): void
  /** Set before stopping on purpose: the parent going away then is expected */
  stopping: boolean
}

/**
 * Sets the process up as a child of an IPC parent and waits for its `init`
 * message. Run on its own (no IPC channel), it prints `usage` and exits 2.
 */
export async function ipcChild<Init extends { type: string }, Out> (usage: string): Promise<IpcChild<Init, Out>> {
  const post = (message: unknown): void => {
    if (process.connected) {
      process.send?.(message)
    }
  }
  const state = { stopping: false }
  process.on('SIGINT', () => {})
  process.on('disconnect', () => {
    if (!state.stopping) {
      process.exit(1)
    }
  })
  const fatal = (err: unknown): void => {
    post({ type: 'fatal', error: describeError(err) })
    process.exit(1)
  }
  process.on('uncaughtException', fatal)
  process.on('unhandledRejection', fatal)
  if (process.send === undefined) {
    process.stderr.write(`${usage}\n`)
    process.exit(2)
  }
  const init = await new Promise<Init>((resolve) => {
    const onMessage = (message: Init): void => {
      if (message.type === 'init') {
        process.off('message', onMessage)
        resolve(message)
      }
    }
    process.on('message', onMessage)
  })
  return Object.assign(state, {
    init,
    send: (message: Out) => { post(message) },
    sendAndExit: (message: Out) => {
      if (!process.connected) {
        process.exit(0)
      }
      process.send?.(message, () => { process.exit(0) })
    }
  })
}
