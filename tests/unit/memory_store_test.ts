import { MemoryStore } from "../../src/state/memory.ts";
import { stateStoreCases } from "./state_store_cases.ts";

stateStoreCases("MemoryStore", () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, [Symbol.asyncDispose]: () => store.close() });
});
