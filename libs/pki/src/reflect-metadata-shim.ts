type MetadataStore = WeakMap<object, Map<unknown, unknown>>;

interface MetadataReflect {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
}

/**
 * @peculiar/x509 2.x depends on tsyringe, which refuses to load unless a Reflect metadata
 * polyfill is present. It only needs these three functions (its decorators emit no type
 * metadata), so a small shim avoids a polyfill dependency. An existing polyfill is left alone.
 */
export function installReflectMetadataShim(): void {
  const reflect = Reflect as MetadataReflect;
  if (reflect.getMetadata) return;
  const store: MetadataStore = new WeakMap();
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o)) {
      const entries = store.get(o);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
  reflect.defineMetadata = (key, value, target) => {
    const entries = store.get(target) ?? new Map<unknown, unknown>();
    entries.set(key, value);
    store.set(target, entries);
  };
}
