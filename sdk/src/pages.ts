/**
 * Pages of a list: a `Page` holds one page's items and the list's resourceVersion, and
 * iterates (`for await`) every item of it and of the pages after it; a `PagePromise` is
 * the page still on its way, which may be awaited or iterated alike.
 */

/** Every object of a list, and the list's resourceVersion (to start a watch from). */
export interface ListAll<T> {
  items: T[]
  resourceVersion: string
}

export class Page<T> implements AsyncIterable<T> {
  constructor(
    /** This page's objects. */
    readonly items: T[],
    /** The list's resourceVersion: a watch started from it sees every change after this list. */
    readonly resourceVersion: string,
    /** The token of the next page, if any. */
    readonly continueToken: string | undefined,
    private readonly fetchNext: (() => Promise<Page<T>>) | undefined,
  ) {}

  hasNextPage(): boolean {
    return this.fetchNext !== undefined
  }

  /** The next page; throws when this is the last (see `hasNextPage()`). */
  nextPage(): Promise<Page<T>> {
    if (!this.fetchNext) return Promise.reject(new RangeError('this is the last page of the list'))
    return this.fetchNext()
  }

  /** This page and every page after it. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    for (let page: Page<T> = this; ; page = await page.nextPage()) {
      yield page
      if (!page.hasNextPage()) return
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items
  }
}

/** A page on its way: `await` it for the `Page`, or `for await` over every object of the list. */
export class PagePromise<T> extends Promise<Page<T>> implements AsyncIterable<T> {
  // `then`, `catch` and `finally` answer plain promises.
  static override get [Symbol.species]() {
    return Promise
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield* await this
  }
}
