import { createFakeFlagStore } from '../../flags/fake-flag-store.js';
import { contractCatalogue, flagStoreContract } from './flag-store.contract.js';

flagStoreContract('in-memory fake', async () => createFakeFlagStore({ catalogue: contractCatalogue }));
