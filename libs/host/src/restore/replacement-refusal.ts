import { RepoError } from "@pwdr/repo";

/**
 * Why a replacement host cannot take a recovery point: a source it has no
 * place for, or a server older than the one the data came from. An
 * `invalid_argument` for the CLI (exit 2); job results carry `reason` as
 * their code, so a DR assessment can tell them apart.
 */
export class ReplacementRefusal extends RepoError {
  constructor(
    readonly reason: "source_missing" | "version_incompatible",
    message: string,
  ) {
    super("invalid_argument", message);
  }
}
