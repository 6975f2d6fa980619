// Hash routes (#/hosts/<id>): the controller serves one page, so any link
// works after a reload without server-side routing.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** Path segments, e.g. ["hosts", "<id>"]. */
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = hash.split("?");
  return {
    parts: path.split("/").filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const changed = () => setRoute(current());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

/** An href for a route: link("hosts", id) → "#/hosts/<id>". */
export function link(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join("/")}`;
}

export function navigate(href: string): void {
  location.hash = href.replace(/^#/, "");
}
