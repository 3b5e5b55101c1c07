/** The error a promise rejects with; fails the test if it resolves instead. */
export async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err: any) {
    return err
  }
  throw new Error('expected a rejection, but it resolved')
}
