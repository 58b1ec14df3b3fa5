/**
 * Nothing a test starts may outlive the test run, whatever ends it (Ctrl-C, SIGTERM or SIGKILL of
 * `node --test`). Imported for its effects by every helper that starts sessions:
 * - each qemunet a test starts ends its session when this test process is gone (QEMUNET_OWNER_PID),
 *   detached supervisors included;
 * - this test process ends when the test runner that started it is gone (it would otherwise go on
 *   as an orphan and keep its sessions).
 */
process.env.QEMUNET_OWNER_PID = String(process.pid);

const runner = process.ppid;
setInterval(() => {
  if (process.ppid !== runner) process.exit(1);
}, 500).unref();
