"""An independent DNS-over-HTTPS client: dnspython's own DoH code, not Switchboard's.

Usage: doh_client.py URL [QUERIES_JSON]

URL is the DoH endpoint (http://127.0.0.1:PORT/dns-query). QUERIES_JSON, or standard
input when it is absent, is a JSON list of {"name", "type", "method"} objects ("method"
is GET or POST; an object may carry its own "url", and "edns": true adds an OPT record).
Prints one JSON list of results in the same order: the query, the response code as
text, the header flags, the EDNS version of the reply (-1 for none), the answer,
authority and additional sections as presentation-form records, and the SOA serial of
the authority section. A query that fails (HTTP error, bad message, mismatched ID) gives
{"error": "..."} instead, and the process still exits 0.
"""

import json
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import httpx


def records(section):
    out = []
    for rrset in section:
        for rdata in rrset:
            out.append(
                {
                    "name": rrset.name.to_text(),
                    "type": dns.rdatatype.to_text(rrset.rdtype),
                    "class": dns.rdataclass.to_text(rrset.rdclass),
                    "ttl": rrset.ttl,
                    "data": rdata.to_text(),
                }
            )
    return out


def ask(session, url, q):
    name = q["name"]
    rdtype = dns.rdatatype.from_text(q["type"])
    method = q.get("method", "GET").upper()
    query = dns.message.make_query(name, rdtype, use_edns=q.get("edns", False))
    response = dns.query.https(
        query, q.get("url", url), timeout=10, session=session, post=method == "POST"
    )
    soa = [
        rdata.serial
        for rrset in response.authority
        if rrset.rdtype == dns.rdatatype.SOA
        for rdata in rrset
    ]
    return {
        "rcode": dns.rcode.to_text(response.rcode()),
        "flags": dns.flags.to_text(response.flags).split(),
        "idMatches": response.id == query.id,
        "edns": response.edns,
        "answer": records(response.answer),
        "authority": records(response.authority),
        "additional": records(response.additional),
        "soaSerial": soa[0] if soa else None,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: doh_client.py URL [QUERIES_JSON]")
    url = sys.argv[1]
    queries = json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read())
    results = []
    with httpx.Client(http1=True, http2=False) as session:
        for q in queries:
            result = {"query": q}
            try:
                result.update(ask(session, url, q))
            except Exception as e:  # reported per query, for the test to show
                result["error"] = f"{type(e).__name__}: {e}"
            results.append(result)
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
