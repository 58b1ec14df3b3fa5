/**
 * Waits for every launch, then throws the first failure. With Promise.all a failure would start the
 * teardown while other launches are still under way, and a process launched after it would be left running.
 */
export async function allSettledOrThrow(launches: Array<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(launches)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
