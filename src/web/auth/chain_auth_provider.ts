// Several identity sources asked in turn, e.g. the local users file (a break-glass admin that works when
// the directory is down) and then the company directory. The first that vouches for the user wins.
import type { AuthProvider, CredentialVerdict } from "./auth_provider.ts";

type Failure = Extract<CredentialVerdict, { ok: false }>;

// When none vouches, the most telling refusal is returned: a right password without a role says more than
// a directory that is down, which says more than "wrong password", which says more than "no users here".
const RANK: Readonly<Record<Failure["reason"], number>> = {
  "no-role": 3,
  unavailable: 2,
  "bad-credentials": 1,
  "not-configured": 0,
};

export class ChainAuthProvider implements AuthProvider {
  readonly name: string;
  constructor(readonly providers: readonly AuthProvider[]) {
    if (providers.length === 0) throw new Error("ChainAuthProvider needs at least one provider");
    this.name = providers.map((p) => p.name).join(" then ");
  }

  async verifyPassword(user: string, password: string): Promise<CredentialVerdict> {
    let worst: Failure | null = null;
    for (const p of this.providers) {
      const v = await p.verifyPassword(user, password);
      if (v.ok) return v;
      if (!worst || RANK[v.reason] > RANK[worst.reason]) worst = v;
    }
    return worst!;
  }
}
