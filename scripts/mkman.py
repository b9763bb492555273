#!/usr/bin/env python3
"""Reference pages from the header's doc comments: one man page per public function, the
httpclient(3) overview, and the same as HTML.

    scripts/mkman.py include/httpclient.h OUTDIR [VERSION]

writes OUTDIR/man/man3/<function>.3, OUTDIR/man/man3/httpclient.3 and OUTDIR/html/index.html.
The header's comments are the one source: each function's comment becomes its page (the
paragraph starting "Returns" becomes RETURN VALUE; functions named in the text become SEE
ALSO). Only python3 is needed. Exit status 1 when a function has no comment.
"""
import html
import os
import re
import sys

GROUPS = [  # (title, predicate on the function name), in the order the overview lists them
    ("Connections", lambda n: "connection" in n),
    ("Requests", lambda n: n in ("hc_request", "hc_request_fd", "hc_request_stream",
                                 "hc_putrequest", "hc_putheader", "hc_endheaders", "hc_send",
                                 "hc_send_chunk")),
    ("Responses", lambda n: n.startswith("hc_response_") or n in ("hc_getresponse",
                                                                   "hc_buffer_free")),
    ("URL-level client", lambda n: n.startswith(("hc_client_", "hc_call_")) or n == "hc_get"),
    ("Errors", lambda n: n.startswith("hc_error_") or n in ("hc_strerror",
                                                            "hc_last_error_message")),
]
OTHER = "Constants and version"


class Item:
    def __init__(self, kind, name, decl, doc):
        self.kind, self.name, self.decl, self.doc = kind, name, decl, doc


def parse(text):
    """The documented declarations of the header, in order."""
    items = []
    pat = re.compile(r"/\*\*(.*?)\*/\s*\n([^\n]*(?:\n(?!\n|/\*\*)[^\n]*)*)", re.S)
    for m in pat.finditer(text):
        lines = [re.sub(r"^\s*\* ?", "", l) for l in m.group(1).strip("\n").split("\n")]
        doc = "\n".join(lines).strip()
        decl = m.group(2).strip()
        f = re.match(r"^([\w\s\*]+?)\s*\**\b(hc_\w+)\((.*?)\);", decl, re.S)
        if f:
            items.append(Item("function", f.group(2), decl, doc))
            continue
        t = re.match(r"typedef .*?\(\*(hc_\w+)\)", decl)
        if t:
            items.append(Item("callback", t.group(1), decl, doc))
            continue
        s = re.match(r"typedef struct (hc_\w+)", decl)
        if s:
            items.append(Item("struct", s.group(1), decl, doc))
    return items


def enum_values(text, enum):
    """[(name, value, comment)] of `typedef enum <enum> {...}`."""
    m = re.search(r"typedef enum %s \{(.*?)\}" % enum, text, re.S)
    out = []
    if not m:
        return out
    for c, name, value in re.findall(r"(?:/\*\*(.*?)\*/\s*)?(HC_\w+) = ([^,\n]+),", m.group(1),
                                     re.S):
        c = " ".join(re.sub(r"^\s*\* ?", "", l).strip() for l in (c or "").split("\n")).strip()
        out.append((name, value.strip(), c))
    return out


def paragraphs(doc):
    return [p.replace("\n", " ").strip() for p in re.split(r"\n\s*\n", doc) if p.strip()]


def split_returns(paras):
    """(description paragraphs, return-value paragraphs)."""
    desc, ret = [], []
    for p in paras:
        if ret or p.startswith("Returns"):
            ret.append(p)
            continue
        m = re.search(r"(?<=[.)]) (Returns [A-Zah].*)$", p)
        if m:
            desc.append(p[:m.start()].strip())
            ret.append(m.group(1))
        else:
            desc.append(p)
    return desc, ret


# NAME lines where the comment's first clause does not read as one.
SUMMARIES = {
    "hc_connection_set_strict": "chooses strict or lenient reading of the status line",
    "hc_connection_set_debuglevel": "prints httplib's trace of a connection to stderr",
    "hc_connection_set_verify": "turns certificate and host name verification on or off (HTTPS)",
    "hc_connection_set_continue_timeout":
        "sets how long a request with Expect: 100-continue waits before its body",
}


def summary(name, doc):
    """The NAME line: the comment's first clause (not cut inside `code`)."""
    if name in SUMMARIES:
        return SUMMARIES[name]
    first = paragraphs(doc)[0]
    https = first.startswith("HTTPS: ")
    if https:
        first = first[len("HTTPS: "):]
    codes = re.findall(r"`[^`]*`", first)
    masked = re.sub(r"`[^`]*`", "\0", first)
    masked = re.split(r"(?<=[a-z\0)])\. ", masked, maxsplit=1)[0].rstrip(".")
    masked = re.split(r" \(|: |; ", masked, maxsplit=1)[0]
    for c in codes:
        masked = masked.replace("\0", c, 1)
    first = masked.replace("`", "")
    word = first.split(" ", 1)[0]
    if not ((len(word) > 1 and word.isupper()) or word.startswith("hc_")):
        first = first[0].lower() + first[1:]
    if https:  # "HTTPS: trust ..." reads as an order; the NAME line describes
        first = re.sub(r"^(trust|present)\b", r"\1s", first) + " (HTTPS)"
    return first


def params(decl):
    m = re.match(r"^(.*?)\b(hc_\w+)\((.*)\);", " ".join(decl.split()))
    ret, name, args = m.group(1).strip(), m.group(2), m.group(3)
    plist = []
    if args.strip() not in ("", "void"):
        for a in args.split(", "):
            pm = re.match(r"^(.*?)(\w+)$", a.strip())
            plist.append((pm.group(1), pm.group(2)))
    return ret, name, plist


# --- roff --------------------------------------------------------------------------------------

def roff_escape(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return s


def roff_inline(s, names, argnames):
    """Backticked code and known names in bold, arguments in italics."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`]*`)", s)):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            code = part[1:-1]
            font = "I" if code in argnames else "B"
            out.append("\\f%s%s\\fR" % (font, roff_escape(code)))
        else:
            e = roff_escape(part)
            e = re.sub(r"\b(hc_\w+|HC_\w+|HTTPCLIENT_\w+)\b",
                       lambda m: "\\fB%s\\fR" % m.group(1), e)
            out.append(e)
    line = "".join(out)
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def roff_para(p, names, argnames):
    # Sentences on their own lines (roff's convention; also keeps lines short).
    text = roff_inline(p, names, argnames)
    text = re.sub(r"([.;]) (?=[A-Z\\])", r"\1\n", text)
    return "\n".join(("\\&" + l) if l.startswith((".", "'")) else l for l in text.split("\n"))


def see_also(item, names):
    found = []
    for n in re.findall(r"\b(hc_\w+)\b", item.doc):
        if n in names and n != item.name and n not in found:
            found.append(n)
    return found


def th(name, version):
    return '.TH %s 3 "" "httpclient %s" "httpclient manual"\n.nh\n' % (name.upper(), version)


def man_function(item, names, version):
    ret, name, plist = params(item.decl)
    argnames = {a for _, a in plist}
    desc, rets = split_returns(paragraphs(item.doc))
    out = [th(name, version), ".SH NAME\n%s \\- %s\n" % (name, roff_escape(summary(name, item.doc)))]
    out.append(".SH SYNOPSIS\n.nf\n.B #include <httpclient.h>\n.PP\n")
    head = "%s %s(" % (ret, name) if not ret.endswith("*") else "%s%s(" % (ret, name)
    pad = " " * len(head)
    lines, cur = [], "\\fB%s\\fR" % roff_escape(head)
    width = len(head)
    if not plist:
        cur += "\\fBvoid);\\fR"
    for i, (t, a) in enumerate(plist):
        piece_t, piece_a = t, a
        sep = ");" if i == len(plist) - 1 else ","
        plain = len(t) + len(a) + len(sep)
        if i > 0 and width + plain + 1 > 78:
            lines.append(cur)
            cur, width = pad, len(pad)
        elif i > 0:
            cur += " "
            width += 1
        cur += "\\fB%s\\fR\\fI%s\\fR\\fB%s\\fR" % (roff_escape(piece_t), piece_a, sep)
        width += plain
    lines.append(cur)
    out.append("\n".join(lines) + "\n.fi\n.PP\nLink with\n.IR \\-lhttpclient\n"
               "(\\fBpkg\\-config \\-\\-libs httpclient\\fR).\n")
    out.append(".SH DESCRIPTION\n")
    out.append("\n.PP\n".join(roff_para(p, names, argnames) for p in desc) + "\n")
    if rets:
        out.append(".SH RETURN VALUE\n")
        out.append("\n.PP\n".join(roff_para(p, names, argnames) for p in rets) + "\n")
    out.append(".SH SEE ALSO\n")
    refs = ["\\fB%s\\fR(3)" % n for n in see_also(item, names)] + ["\\fBhttpclient\\fR(3)"]
    out.append(",\n".join(refs) + "\n")
    return "".join(out)


def group_of(name):
    for title, pred in GROUPS:
        if pred(name):
            return title
    return OTHER


def man_overview(items, text, version):
    funcs = [i for i in items if i.kind == "function"]
    names = {i.name for i in funcs}
    o = [th("httpclient", version)]
    o.append(".SH NAME\nhttpclient \\- an HTTP/1.1 and HTTPS client library with "
             "Python httplib's API\n")
    o.append(".SH SYNOPSIS\n.nf\n.B #include <httpclient.h>\n.fi\n.PP\nLink with\n"
             ".IR \\-lhttpclient\n(\\fBpkg\\-config \\-\\-cflags \\-\\-libs httpclient\\fR, "
             "or CMake's \\fBfind_package(httpclient)\\fR and \\fBhttpclient::httpclient\\fR).\n")
    o.append(""".SH DESCRIPTION
httpclient is Python's \\fBhttplib\\fR made into C: a connection, a request sent on it, a
response read from it, with the safe defaults of \\fBhttp.client\\fR (certificates verified,
strict parsing).
.PP
.nf
hc_connection *conn = NULL;
hc_response *resp = NULL;
uint8_t buf[16384];
size_t n = 0;
hc_error err = hc_connection_new("example.org", 0, &conn);
if (err == HC_OK) err = hc_request(conn, "GET", "/", NULL, 0, NULL, 0);
if (err == HC_OK) err = hc_getresponse(conn, &resp);
while (err == HC_OK && (err = hc_response_read(resp, buf, sizeof buf, &n)) == HC_OK && n > 0)
    fwrite(buf, 1, n, stdout);
hc_response_free(resp);
hc_connection_free(conn);
.fi
.SH CONVENTIONS
.IP \\(bu 2
A function that can fail returns \\fBhc_error\\fR: \\fBHC_OK\\fR (0) or an \\fBHC_ERR_*\\fR code.
Results come back through out\\-parameters, which are left untouched on failure.
.IP \\(bu 2
\\fBhc_last_error_message\\fR(3) copies the calling thread's message for its last failure.
.IP \\(bu 2
Strings in are NUL\\-terminated and borrowed for the call; strings out are borrowed from the
library and live as each page says (usually until the handle is freed); the caller never frees
them.
.IP \\(bu 2
A NULL handle or required pointer is \\fBHC_ERR_INVALID_ARGUMENT\\fR; \\fB*_free(NULL)\\fR does
nothing; a panic inside the library becomes \\fBHC_ERR_INTERNAL\\fR.
.IP \\(bu 2
A connection and its responses are used by one thread at a time; distinct connections are
independent; the last\\-error message is per thread.
""")
    o.append(".SH FUNCTIONS\n")
    for title in [g[0] for g in GROUPS] + [OTHER]:
        fs = [f for f in funcs if group_of(f.name) == title]
        if not fs:
            continue
        o.append(".SS %s\n" % title)
        for f in fs:
            o.append(".TP\n\\fB%s\\fR(3)\n%s\n" % (f.name, roff_escape(summary(f.name, f.doc))))
    errs = enum_values(text, "hc_error_code")
    if errs:
        o.append(".SH ERRORS\nEach code, its value and what it means; "
                 "\\fBhc_error_parent\\fR(3) and \\fBhc_error_is\\fR(3) walk their hierarchy.\n")
        for name, value, c in errs:
            o.append(".TP\n\\fB%s\\fR (%s)\n%s\n" % (name, value, roff_inline(c, names, set())))
    o.append(""".SH ENVIRONMENT
.TP
.B SSL_CERT_FILE, SSL_CERT_DIR
Replace OpenSSL's default trust store for HTTPS connections (read once per process).
.SH FILES
The contract in full: \\fIconventions.md\\fR, \\fIerrors.md\\fR, \\fIconnections.md\\fR,
\\fIparsing.md\\fR and \\fIbad\\-input.md\\fR in the documentation directory
(\\fI/usr/share/doc/httpclient\\fR under the installation prefix), with these pages as HTML in
its \\fIhtml\\fR directory.
.SH SEE ALSO
""")
    o.append(",\n".join("\\fB%s\\fR(3)" % f.name for f in funcs) + "\n")
    return "".join(o)


# --- HTML --------------------------------------------------------------------------------------

def html_inline(s, names, argnames):
    out = []
    for part in re.split(r"(`[^`]*`)", s):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            code = part[1:-1]
            tag = "var" if code in argnames else "code"
            out.append("<%s>%s</%s>" % (tag, html.escape(code), tag))
        else:
            e = html.escape(part)
            e = re.sub(r"\b(hc_\w+)\b", lambda m: '<a href="#%s"><code>%s</code></a>'
                       % (m.group(1), m.group(1)) if m.group(1) in names
                       else "<code>%s</code>" % m.group(1), e)
            e = re.sub(r"\b((?:HC|HTTPCLIENT)_\w+)\b", r"<code>\1</code>", e)
            out.append(e)
    return "".join(out)


def html_page(items, text, version):
    funcs = [i for i in items if i.kind == "function"]
    names = {i.name for i in funcs}
    h = ["<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
         "<title>httpclient %s reference</title>" % html.escape(version),
         "<style>body{max-width:52em;margin:auto;padding:1em;font-family:sans-serif;"
         "line-height:1.4}pre{background:#f4f4f4;padding:.6em;overflow-x:auto}"
         "h2{border-top:1px solid #ccc;padding-top:.6em}var{font-style:italic}</style>",
         "</head><body>",
         "<h1>httpclient %s: the C reference</h1>" % html.escape(version),
         "<p>An HTTP/1.1 and HTTPS client library with Python httplib's API. "
         "<code>#include &lt;httpclient.h&gt;</code>, link with <code>-lhttpclient</code>. "
         "Each function returns <code>hc_error</code> when it can fail; the conventions, the "
         "error hierarchy and the parsing policy are in <code>conventions.md</code>, "
         "<code>errors.md</code>, <code>connections.md</code> and <code>parsing.md</code>.</p>"]
    for title in [g[0] for g in GROUPS] + [OTHER]:
        fs = [f for f in funcs if group_of(f.name) == title]
        if fs:
            h.append("<h3>%s</h3><ul>" % title)
            h += ['<li><a href="#%s"><code>%s</code></a>: %s</li>'
                  % (f.name, f.name, html.escape(summary(f.name, f.doc))) for f in fs]
            h.append("</ul>")
    for i in items:
        if i.kind == "function":
            _, _, plist = params(i.decl)
            argnames = {a for _, a in plist}
        else:
            argnames = set()
        desc, rets = split_returns(paragraphs(i.doc)) if i.kind == "function" else (
            paragraphs(i.doc), [])
        h.append('<h2 id="%s">%s</h2>' % (i.name, i.name))
        h.append("<pre>%s</pre>" % html.escape(" ".join(i.decl.split()) if i.kind == "function"
                                              else i.decl))
        h += ["<p>%s</p>" % html_inline(p, names, argnames) for p in desc]
        if rets:
            h.append("<h4>Return value</h4>")
            h += ["<p>%s</p>" % html_inline(p, names, argnames) for p in rets]
    errs = enum_values(text, "hc_error_code")
    if errs:
        h.append('<h2 id="errors">Error codes</h2><table>')
        h += ["<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>"
              % (n, html.escape(v), html_inline(c, names, set())) for n, v, c in errs]
        h.append("</table>")
    h.append("</body></html>\n")
    return "\n".join(h)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    header, outdir = sys.argv[1], sys.argv[2]
    text = open(header, encoding="utf-8").read()
    version = sys.argv[3] if len(sys.argv) > 3 else (
        re.search(r'#define HTTPCLIENT_VERSION "([^"]+)"', text) or [None, "0"])[1]
    items = parse(text)
    funcs = [i for i in items if i.kind == "function"]
    declared = set(re.findall(r"^[\w][\w\s\*]*?\b(hc_\w+)\(", text, re.M))
    missing = declared - {f.name for f in funcs}
    if missing:
        sys.exit("mkman: functions without a doc comment: " + ", ".join(sorted(missing)))
    names = {f.name for f in funcs}
    man3 = os.path.join(outdir, "man", "man3")
    htmldir = os.path.join(outdir, "html")
    os.makedirs(man3, exist_ok=True)
    os.makedirs(htmldir, exist_ok=True)
    for old in os.listdir(man3):  # a function that went away loses its page
        if old.endswith(".3"):
            os.remove(os.path.join(man3, old))
    for f in funcs:
        with open(os.path.join(man3, f.name + ".3"), "w", encoding="utf-8") as fh:
            fh.write(man_function(f, names, version))
    with open(os.path.join(man3, "httpclient.3"), "w", encoding="utf-8") as fh:
        fh.write(man_overview(items, text, version))
    with open(os.path.join(htmldir, "index.html"), "w", encoding="utf-8") as fh:
        fh.write(html_page(items, text, version))
    print("mkman: %d function pages, httpclient.3 and html/index.html in %s"
          % (len(funcs), outdir))


if __name__ == "__main__":
    main()
