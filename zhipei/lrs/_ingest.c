/* The LRS's ingest hot path in C (docs/decisions/0012-native-ingest.md); zhipei/lrs/native.py
   imports it, and the Python it stands in for runs where it was not built.

   scan(body, digits) -> (property names, whether `digits` digits stand in a row) in a valid
   JSON body; members(value) -> the properties its parsed objects hold: where the two counts
   differ, orjson dropped a property given twice (validation.orjson_may_differ).

   digit_run(data, digits) -> whether `digits` digits stand in a row (formats.has_digit_run).

   joined(values) -> services._joined(values); uuid_bytes(text) -> a UUID's 16 bytes.

   copy_binary(rows, types) -> the rows in PostgreSQL's binary COPY format, signature and
   trailer included: what psycopg's write_row sends for them, byte for byte, in one buffer.

   common(statement, extensions_depth) takes a parsed statement (dicts, lists, str, int,
   float, bool, None, as orjson or json build them) and answers None when it is not of the
   common shape that zhipei/lrs/shape.py describes as a JSON Schema, or else a tuple:

       (actor key, account homePage, account name, verb id, activity id,
        [activity ids: the object's, then contextActivities' in order],
        registration lower-cased or None,
        [contextActivities keys given one object rather than an array],
        the timestamp as an aware datetime when it has the form YYYY-MM-DDTHH:MM:SS[.f]Z,
        else None)

   It accepts exactly what shape.is_common accepts, and also extensions holding integers
   beyond 64 bits or strings with lone surrogates, which jsonschema-rs cannot take in and the
   full validator accepts (tests/test_native_shape.py holds it to both). What it accepts,
   validation._fast_prepare finishes: scores, durations, timestamps, the statement id.
   Extensions (of the result, the context and every activity definition) nest no deeper than
   `extensions_depth` levels, the extensions object itself counted.

   The patterns are formats.py's, written out character by character:
     IRI     ^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f<>"{}|\\^`]+\Z
     UUID    8-4-4-4-12 hexadecimal digits
     MAILTO  ^mailto:[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\Z
     SHA1    40 hexadecimal digits
     LANGTAG subtags of 1-8 ASCII letters and digits joined by "-", the first either 2-8
             letters or a single x, X, i or I followed by at least one more subtag (what
             the RFC 5646 pattern of formats.py matches, its extlang part included)
   where \s is what Python's re matches in a str pattern: Py_UNICODE_ISSPACE. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

/* -1: an error is set (memory); 0: not the common shape; 1: of it. */
#define NOT_COMMON 0
#define TRY(call)                                                                          \
    do {                                                                                   \
        int _r = (call);                                                                   \
        if (_r <= 0) return _r;                                                            \
    } while (0)

/* --- characters and patterns ----------------------------------------------------------- */

static inline int is_ascii_letter(Py_UCS4 c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int is_ascii_alnum(Py_UCS4 c) {
    return is_ascii_letter(c) || (c >= '0' && c <= '9');
}

static inline int is_hex(Py_UCS4 c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* \s, \x00-\x1f and \x7f-\x9f: what every pattern here refuses in free text. */
static inline int is_space_or_control(Py_UCS4 c) {
    return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || Py_UNICODE_ISSPACE(c);
}

/* Which Latin-1 characters may follow an IRI's scheme: filled in by the module's init from
   the same rules as iri_char_ok, so the two cannot differ. */
static unsigned char IRI_LATIN1[256];

static inline int iri_char_ok(Py_UCS4 c) {
    if (is_space_or_control(c)) return 0;
    switch (c) {
        case '<': case '>': case '"': case '{': case '}': case '|': case '\\': case '^':
        case '`':
            return 0;
        default:
            return 1;
    }
}

static void init_tables(void) {
    for (Py_UCS4 c = 0; c < 256; c++) IRI_LATIN1[c] = (unsigned char)iri_char_ok(c);
}

static int is_iri(PyObject *s) {
    if (!PyUnicode_Check(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (n == 0 || !is_ascii_letter(PyUnicode_READ(kind, data, 0))) return 0;
    Py_ssize_t i = 1;
    for (; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == ':') break;
        if (!(is_ascii_alnum(c) || c == '+' || c == '.' || c == '-')) return 0;
    }
    i++; /* past the colon */
    if (i >= n) return 0; /* no colon, or nothing after it */
    if (kind == PyUnicode_1BYTE_KIND) { /* most IRIs: a table lookup per character */
        const Py_UCS1 *text = (const Py_UCS1 *)data;
        for (; i < n; i++) {
            if (!IRI_LATIN1[text[i]]) return 0;
        }
        return 1;
    }
    for (; i < n; i++) {
        if (!iri_char_ok(PyUnicode_READ(kind, data, i))) return 0;
    }
    return 1;
}

static int is_hex_groups(PyObject *s, const int *groups, int count) {
    if (!PyUnicode_Check(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t i = 0;
    for (int g = 0; g < count; g++) {
        if (g > 0) {
            if (i >= n || PyUnicode_READ(kind, data, i) != '-') return 0;
            i++;
        }
        for (int k = 0; k < groups[g]; k++, i++) {
            if (i >= n || !is_hex(PyUnicode_READ(kind, data, i))) return 0;
        }
    }
    return i == n;
}

static const int UUID_GROUPS[] = {8, 4, 4, 4, 12};
static const int SHA1_GROUPS[] = {40};

static int is_uuid(PyObject *s) { return is_hex_groups(s, UUID_GROUPS, 5); }
static int is_sha1(PyObject *s) { return is_hex_groups(s, SHA1_GROUPS, 1); }

static int is_mailto(PyObject *s) {
    if (!PyUnicode_Check(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    static const char prefix[] = "mailto:";
    Py_ssize_t p = (Py_ssize_t)strlen(prefix);
    if (n < p) return 0;
    for (Py_ssize_t i = 0; i < p; i++) {
        if (PyUnicode_READ(kind, data, i) != (Py_UCS4)prefix[i]) return 0;
    }
    Py_ssize_t local = 0, domain = 0;
    int ats = 0;
    for (Py_ssize_t i = p; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '@') {
            if (++ats > 1) return 0;
            continue;
        }
        if (is_space_or_control(c)) return 0;
        if (ats) domain++;
        else local++;
    }
    return ats == 1 && local > 0 && domain > 0;
}

static int is_language_tag(PyObject *s) {
    if (!PyUnicode_Check(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t start = 0;
    int index = 0, first_letters = 1;
    Py_UCS4 first = 0;
    Py_ssize_t first_length = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : '-';
        if (c == '-') {
            Py_ssize_t length = i - start;
            if (length < 1 || length > 8) return 0;
            if (index == 0) {
                first_length = length;
                first = PyUnicode_READ(kind, data, 0);
            }
            index++;
            start = i + 1;
            continue;
        }
        if (!is_ascii_alnum(c)) return 0;
        if (index == 0 && !is_ascii_letter(c)) first_letters = 0;
    }
    if (!first_letters) return 0;
    if (first_length >= 2) return 1; /* 2-8 letters, then any subtags */
    /* One letter: a private-use (x-) or grandfathered (i-) tag, with more subtags. */
    return (first == 'x' || first == 'X' || first == 'i' || first == 'I') && index >= 2;
}

static int is_key_text(PyObject *s) {
    if (!PyUnicode_Check(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyUnicode_READ(kind, data, i) == 0) return 0;
    }
    return 1;
}

/* --- JSON values ------------------------------------------------------------------------ */

static inline int is_number(PyObject *v) {
    return (PyLong_Check(v) && !PyBool_Check(v)) || PyFloat_Check(v);
}

/* Whether arrays and objects nest more than `limit` levels below and including `value`
   (validation.depth_exceeds). */
static int depth_exceeds(PyObject *value, int limit) {
    if (PyDict_Check(value)) {
        if (limit < 1) return 1;
        Py_ssize_t pos = 0;
        PyObject *key, *child;
        while (PyDict_Next(value, &pos, &key, &child)) {
            if ((PyDict_Check(child) || PyList_Check(child)) && depth_exceeds(child, limit - 1))
                return 1;
        }
    } else if (PyList_Check(value)) {
        if (limit < 1) return 1;
        Py_ssize_t n = PyList_GET_SIZE(value);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *child = PyList_GET_ITEM(value, i);
            if ((PyDict_Check(child) || PyList_Check(child)) && depth_exceeds(child, limit - 1))
                return 1;
        }
    }
    return 0;
}

/* A property name, compared with an ASCII literal (every name the shape allows is ASCII). */
static inline int named(PyObject *key, const char *name, Py_ssize_t length) {
    return PyUnicode_IS_COMPACT_ASCII(key) && PyUnicode_GET_LENGTH(key) == length &&
           memcmp(PyUnicode_DATA(key), name, (size_t)length) == 0;
}
#define NAMED(key, literal) named((key), (literal), (Py_ssize_t)(sizeof(literal) - 1))

static int is_const(PyObject *value, const char *text) {
    return PyUnicode_Check(value) && PyUnicode_CompareWithASCIIString(value, text) == 0;
}

typedef struct {
    int extensions_depth;
    PyObject *activities; /* list */
} Walk;

static int language_map(PyObject *value) {
    if (!PyDict_Check(value)) return 0;
    Py_ssize_t pos = 0;
    PyObject *key, *text;
    while (PyDict_Next(value, &pos, &key, &text)) {
        if (!is_language_tag(key) || !PyUnicode_Check(text)) return 0;
    }
    return 1;
}

static int extensions(Walk *walk, PyObject *value) {
    if (!PyDict_Check(value)) return 0;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (!is_iri(key)) return 0;
    }
    return !depth_exceeds(value, walk->extensions_depth);
}

static int definition(Walk *walk, PyObject *value) {
    if (!PyDict_Check(value)) return 0;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (NAMED(key, "name") || NAMED(key, "description")) {
            if (!language_map(item)) return 0;
        } else if (NAMED(key, "type") || NAMED(key, "moreInfo")) {
            if (!is_iri(item)) return 0;
        } else if (NAMED(key, "extensions")) {
            if (!extensions(walk, item)) return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* An Activity; its id goes on walk->activities and, when `id` is given, into *id. */
static int activity(Walk *walk, PyObject *value, PyObject **id) {
    if (!PyDict_Check(value)) return 0;
    PyObject *found = NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (NAMED(key, "id")) {
            if (!is_iri(item)) return 0;
            found = item;
        } else if (NAMED(key, "objectType")) {
            if (!is_const(item, "Activity")) return 0;
        } else if (NAMED(key, "definition")) {
            if (!definition(walk, item)) return 0;
        } else {
            return 0;
        }
    }
    if (found == NULL) return 0;
    if (PyList_Append(walk->activities, found) < 0) return -1;
    if (id != NULL) *id = found;
    return 1;
}

static PyObject *ascii_lower(PyObject *s) {
    /* s: ASCII hexadecimal text (a validated UUID or SHA-1); lower-cased. */
    if (!PyUnicode_IS_COMPACT_ASCII(s)) return PyObject_CallMethod(s, "lower", NULL);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    const char *data = (const char *)PyUnicode_DATA(s);
    int upper = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (data[i] >= 'A' && data[i] <= 'Z') upper = 1;
    }
    if (!upper) return Py_NewRef(s);
    PyObject *out = PyUnicode_New(n, 127);
    if (out == NULL) return NULL;
    char *target = (char *)PyUnicode_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = data[i];
        target[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return out;
}

/* Made once at import: "Agent|account:", " ", "\n" and "". */
static PyObject *ACCOUNT_PREFIX, *SPACE, *NEWLINE, *EMPTY;

/* The texts `parts` (str) joined, in one allocation. */
static PyObject *concat(PyObject *const *parts, int count) {
    Py_ssize_t length = 0;
    Py_UCS4 maxchar = 0;
    for (int k = 0; k < count; k++) {
        length += PyUnicode_GET_LENGTH(parts[k]);
        Py_UCS4 most = PyUnicode_MAX_CHAR_VALUE(parts[k]);
        if (most > maxchar) maxchar = most;
    }
    PyObject *out = PyUnicode_New(length, maxchar);
    if (out == NULL) return NULL;
    Py_ssize_t at = 0;
    for (int k = 0; k < count; k++) {
        Py_ssize_t part = PyUnicode_GET_LENGTH(parts[k]);
        if (PyUnicode_CopyCharacters(out, at, parts[k], 0, part) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        at += part;
    }
    return out;
}

/* An Agent with exactly one identifier: its key ("Agent|<ifi>"), and for an account its
   homePage and name (else ""), as validation._fast_agent_key gives them. */
static int agent(PyObject *value, PyObject **key_out, PyObject **home_out, PyObject **name_out) {
    if (!PyDict_Check(value)) return 0;
    PyObject *mbox = NULL, *sha1 = NULL, *openid = NULL, *home = NULL, *account_name = NULL;
    int ifis = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (NAMED(key, "objectType")) {
            if (!is_const(item, "Agent")) return 0;
        } else if (NAMED(key, "name")) {
            if (!PyUnicode_Check(item)) return 0;
        } else if (NAMED(key, "mbox")) {
            if (!is_mailto(item)) return 0;
            mbox = item;
            ifis++;
        } else if (NAMED(key, "mbox_sha1sum")) {
            if (!is_sha1(item)) return 0;
            sha1 = item;
            ifis++;
        } else if (NAMED(key, "openid")) {
            if (!is_iri(item)) return 0;
            openid = item;
            ifis++;
        } else if (NAMED(key, "account")) {
            if (!PyDict_Check(item)) return 0;
            Py_ssize_t apos = 0;
            PyObject *akey, *avalue;
            while (PyDict_Next(item, &apos, &akey, &avalue)) {
                if (NAMED(akey, "homePage")) {
                    if (!is_iri(avalue)) return 0;
                    home = avalue;
                } else if (NAMED(akey, "name")) {
                    if (!is_key_text(avalue)) return 0;
                    account_name = avalue;
                } else {
                    return 0;
                }
            }
            if (home == NULL || account_name == NULL) return 0;
            ifis++;
        } else {
            return 0;
        }
    }
    if (ifis != 1) return 0;
    if (home != NULL) {
        PyObject *parts[] = {ACCOUNT_PREFIX, home, SPACE, account_name};
        *key_out = concat(parts, 4);
        *home_out = Py_NewRef(home);
        *name_out = Py_NewRef(account_name);
    } else {
        *home_out = Py_NewRef(EMPTY);
        *name_out = Py_NewRef(EMPTY);
        if (mbox != NULL) {
            Py_ssize_t at = PyUnicode_FindChar(mbox, '@', 0, PyUnicode_GET_LENGTH(mbox), 1);
            PyObject *local = PyUnicode_Substring(mbox, 7, at); /* after "mailto:" */
            PyObject *domain = PyUnicode_Substring(mbox, at + 1, PyUnicode_GET_LENGTH(mbox));
            PyObject *lower = domain ? PyObject_CallMethod(domain, "lower", NULL) : NULL;
            *key_out = (local && lower)
                           ? PyUnicode_FromFormat("Agent|mbox:mailto:%U@%U", local, lower)
                           : NULL;
            Py_XDECREF(local);
            Py_XDECREF(domain);
            Py_XDECREF(lower);
        } else if (sha1 != NULL) {
            PyObject *lower = ascii_lower(sha1);
            *key_out = lower ? PyUnicode_FromFormat("Agent|mbox_sha1sum:%U", lower) : NULL;
            Py_XDECREF(lower);
        } else {
            *key_out = PyUnicode_FromFormat("Agent|openid:%U", openid);
        }
    }
    if (*key_out == NULL) {
        Py_CLEAR(*home_out);
        Py_CLEAR(*name_out);
        return -1;
    }
    return 1;
}

static int result(Walk *walk, PyObject *value) {
    if (!PyDict_Check(value)) return 0;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (NAMED(key, "score")) {
            if (!PyDict_Check(item)) return 0;
            Py_ssize_t spos = 0;
            PyObject *skey, *svalue;
            while (PyDict_Next(item, &spos, &skey, &svalue)) {
                if (!(NAMED(skey, "scaled") || NAMED(skey, "raw") || NAMED(skey, "min") ||
                      NAMED(skey, "max")))
                    return 0;
                if (!is_number(svalue)) return 0;
            }
        } else if (NAMED(key, "success") || NAMED(key, "completion")) {
            if (!PyBool_Check(item)) return 0;
        } else if (NAMED(key, "response") || NAMED(key, "duration")) {
            if (!PyUnicode_Check(item)) return 0;
        } else if (NAMED(key, "extensions")) {
            if (!extensions(walk, item)) return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

static int context_activities(Walk *walk, PyObject *value, PyObject *single) {
    if (!PyDict_Check(value)) return 0;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (!(NAMED(key, "parent") || NAMED(key, "grouping") || NAMED(key, "category") ||
              NAMED(key, "other")))
            return 0;
        if (PyList_Check(item)) {
            Py_ssize_t n = PyList_GET_SIZE(item);
            for (Py_ssize_t i = 0; i < n; i++) {
                TRY(activity(walk, PyList_GET_ITEM(item, i), NULL));
                if (PyList_GET_SIZE(item) != n) return 0; /* cannot happen: no Python runs */
            }
        } else {
            TRY(activity(walk, item, NULL));
            if (PyList_Append(single, key) < 0) return -1;
        }
    }
    return 1;
}

static int context(Walk *walk, PyObject *value, PyObject **registration, PyObject *single) {
    if (!PyDict_Check(value)) return 0;
    PyObject *mapping = NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(value, &pos, &key, &item)) {
        if (NAMED(key, "registration")) {
            if (!is_uuid(item)) return 0;
            *registration = item;
        } else if (NAMED(key, "contextActivities")) {
            mapping = item;
        } else if (NAMED(key, "revision") || NAMED(key, "platform")) {
            if (!PyUnicode_Check(item)) return 0;
        } else if (NAMED(key, "language")) {
            if (!is_language_tag(item)) return 0;
        } else if (NAMED(key, "extensions")) {
            if (!extensions(walk, item)) return 0;
        } else {
            return 0;
        }
    }
    if (mapping != NULL) TRY(context_activities(walk, mapping, single));
    return 1;
}

/* A timestamp of the form most statements use, YYYY-MM-DDTHH:MM:SS[.fraction]Z, as the aware
   datetime formats.parse_timestamp gives (the fraction cut to microseconds); None for any
   other form or a date that does not exist, which formats.parse_timestamp then reads. */
static PyObject *utc_timestamp(PyObject *text) {
    if (!PyUnicode_IS_COMPACT_ASCII(text)) Py_RETURN_NONE;
    const char *p = (const char *)PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    static const char form[] = "dddd-dd-ddTdd:dd:dd";
    const Py_ssize_t head = (Py_ssize_t)sizeof(form) - 1;
    if (n < head + 1 || p[n - 1] != 'Z') Py_RETURN_NONE;
    for (Py_ssize_t i = 0; i < head; i++) {
        if (form[i] == 'd' ? !(p[i] >= '0' && p[i] <= '9') : p[i] != form[i]) Py_RETURN_NONE;
    }
    int micro = 0;
    Py_ssize_t i = head;
    if (i < n - 1) {
        if (p[i] != '.' && p[i] != ',') Py_RETURN_NONE;
        i++;
        if (i == n - 1) Py_RETURN_NONE; /* a separator without digits */
        int scale = 100000;
        for (; i < n - 1; i++) {
            if (!(p[i] >= '0' && p[i] <= '9')) Py_RETURN_NONE;
            micro += (p[i] - '0') * scale;
            scale /= 10;
        }
    }
#define DIGITS2(at) ((p[at] - '0') * 10 + (p[(at) + 1] - '0'))
    int year = DIGITS2(0) * 100 + DIGITS2(2);
    PyObject *moment = PyDateTimeAPI->DateTime_FromDateAndTime(
        year, DIGITS2(5), DIGITS2(8), DIGITS2(11), DIGITS2(14), DIGITS2(17), micro,
        PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType);
#undef DIGITS2
    if (moment == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError)) return NULL;
        PyErr_Clear(); /* no such date: formats.parse_timestamp words it */
        Py_RETURN_NONE;
    }
    return moment;
}

static PyObject *common(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "common(statement, extensions_depth)");
        return NULL;
    }
    PyObject *statement = args[0];
    long depth = PyLong_AsLong(args[1]);
    if (depth == -1 && PyErr_Occurred()) return NULL;
    if (!PyDict_Check(statement)) Py_RETURN_NONE;

    PyObject *actor = NULL, *verb = NULL, *object = NULL, *result_value = NULL;
    PyObject *context_value = NULL, *timestamp_text = NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *item;
    while (PyDict_Next(statement, &pos, &key, &item)) {
        if (NAMED(key, "actor")) actor = item;
        else if (NAMED(key, "verb")) verb = item;
        else if (NAMED(key, "object")) object = item;
        else if (NAMED(key, "result")) result_value = item;
        else if (NAMED(key, "context")) context_value = item;
        else if (NAMED(key, "id")) {
            if (!is_uuid(item)) Py_RETURN_NONE;
        } else if (NAMED(key, "timestamp")) {
            if (!PyUnicode_Check(item)) Py_RETURN_NONE;
            timestamp_text = item;
        } else {
            Py_RETURN_NONE;
        }
    }
    if (actor == NULL || verb == NULL || object == NULL) Py_RETURN_NONE;

    /* The verb: {id, display}. */
    PyObject *verb_id = NULL;
    if (!PyDict_Check(verb)) Py_RETURN_NONE;
    pos = 0;
    while (PyDict_Next(verb, &pos, &key, &item)) {
        if (NAMED(key, "id")) {
            if (!is_iri(item)) Py_RETURN_NONE;
            verb_id = item;
        } else if (NAMED(key, "display")) {
            if (!language_map(item)) Py_RETURN_NONE;
        } else {
            Py_RETURN_NONE;
        }
    }
    if (verb_id == NULL) Py_RETURN_NONE;

    Walk walk = {(int)depth, PyList_New(0)};
    PyObject *single = PyList_New(0);
    PyObject *actor_key = NULL, *home = NULL, *account_name = NULL, *registration = NULL;
    PyObject *activity_id = NULL, *out = NULL;
    int ok = -1;
    if (walk.activities == NULL || single == NULL) goto done;
    ok = agent(actor, &actor_key, &home, &account_name);
    if (ok <= 0) goto done;
    ok = activity(&walk, object, &activity_id);
    if (ok <= 0) goto done;
    if (result_value != NULL) {
        ok = result(&walk, result_value);
        if (ok <= 0) goto done;
    }
    if (context_value != NULL) {
        ok = context(&walk, context_value, &registration, single);
        if (ok <= 0) goto done;
    }
    PyObject *registration_lower = registration ? ascii_lower(registration) : Py_NewRef(Py_None);
    PyObject *timestamp = timestamp_text ? utc_timestamp(timestamp_text) : Py_NewRef(Py_None);
    if (registration_lower != NULL && timestamp != NULL) {
        out = PyTuple_Pack(9, actor_key, home, account_name, verb_id, activity_id,
                           walk.activities, registration_lower, single, timestamp);
    }
    Py_XDECREF(registration_lower);
    Py_XDECREF(timestamp);
    if (out == NULL) ok = -1;
done:
    Py_XDECREF(walk.activities);
    Py_XDECREF(single);
    Py_XDECREF(actor_key);
    Py_XDECREF(home);
    Py_XDECREF(account_name);
    if (ok < 0) return NULL;
    if (ok == 0) Py_RETURN_NONE;
    return out;
}

/* --- request bodies -------------------------------------------------------------------- */

static inline int is_digit_byte(unsigned char c) { return c >= '0' && c <= '9'; }

/* Whether `length` digits stand in a row in p[0..n): a skip search. A run of `length` that
   ends at or after p[i] and starts at or before it holds p[i]; so where p[i] is no digit, the
   next possible run ends `length` bytes on. Where it is one, the run around it is measured. */
static int has_run(const unsigned char *p, Py_ssize_t n, Py_ssize_t length) {
    if (length <= 0) return 1;
    Py_ssize_t i = length - 1;
    while (i < n) {
        if (!is_digit_byte(p[i])) {
            i += length;
            continue;
        }
        Py_ssize_t start = i, end = i + 1;
        while (start > 0 && is_digit_byte(p[start - 1]) && end - start < length) start--;
        while (end < n && is_digit_byte(p[end]) && end - start < length) end++;
        if (end - start >= length) return 1;
        i = end + length; /* p[end] is no digit (or the end): the next run starts after it */
    }
    return 0;
}

static inline int is_json_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The property names in a valid JSON text: strings followed by a colon. Outside strings, a
   quote opens one; inside, the first quote not escaped (after an even run of backslashes)
   closes it. -1 when a string does not end (not valid JSON). */
static Py_ssize_t property_names(const unsigned char *p, Py_ssize_t n) {
    const unsigned char *at = p, *stop = p + n;
    Py_ssize_t names = 0;
    while ((at = memchr(at, '"', (size_t)(stop - at))) != NULL) {
        const unsigned char *close = at + 1;
        for (;;) {
            close = memchr(close, '"', (size_t)(stop - close));
            if (close == NULL) return -1;
            const unsigned char *back = close;
            while (back > at + 1 && back[-1] == '\\') back--;
            if ((close - back) % 2 == 0) break; /* not escaped: the string ends here */
            close++;
        }
        at = close + 1;
        while (at < stop && is_json_space(*at)) at++;
        if (at < stop && *at == ':') names++;
    }
    return names;
}

static PyObject *scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan(body, digits)");
        return NULL;
    }
    Py_ssize_t digits = PyLong_AsSsize_t(args[1]);
    if (digits == -1 && PyErr_Occurred()) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *p = (const unsigned char *)view.buf;
    Py_ssize_t names = property_names(p, view.len);
    int long_run = has_run(p, view.len, digits);
    PyBuffer_Release(&view);
    return Py_BuildValue("(nO)", names, long_run ? Py_True : Py_False);
}

/* The properties of every object in a parsed JSON value; -1 past `levels` levels. */
static Py_ssize_t count_members(PyObject *value, int levels) {
    if (levels < 0) return -1;
    Py_ssize_t total = 0, part;
    if (PyDict_Check(value)) {
        total = PyDict_GET_SIZE(value);
        Py_ssize_t pos = 0;
        PyObject *key, *child;
        while (PyDict_Next(value, &pos, &key, &child)) {
            if (PyDict_Check(child) || PyList_Check(child)) {
                if ((part = count_members(child, levels - 1)) < 0) return -1;
                total += part;
            }
        }
    } else if (PyList_Check(value)) {
        Py_ssize_t n = PyList_GET_SIZE(value);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *child = PyList_GET_ITEM(value, i);
            if (PyDict_Check(child) || PyList_Check(child)) {
                if ((part = count_members(child, levels - 1)) < 0) return -1;
                total += part;
            }
        }
    }
    return total;
}

/* orjson reads no deeper than 1024 levels; beyond this, the count is -1 (json decides). */
#define MEMBERS_LEVELS 1100

static PyObject *members(PyObject *module, PyObject *value) {
    (void)module;
    return PyLong_FromSsize_t(count_members(value, MEMBERS_LEVELS));
}

static PyObject *digit_run(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "digit_run(data, digits)");
        return NULL;
    }
    Py_ssize_t digits = PyLong_AsSsize_t(args[1]);
    if (digits == -1 && PyErr_Occurred()) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    int found = has_run((const unsigned char *)view.buf, view.len, digits);
    PyBuffer_Release(&view);
    return PyBool_FromLong(found);
}

/* --- row values ------------------------------------------------------------------------ */

/* services._joined: the non-empty texts of a list, each once, in order, each followed by a
   newline and the first also preceded by one; "" for none. */
static PyObject *joined(PyObject *module, PyObject *values) {
    (void)module;
    if (!PyList_CheckExact(values)) {
        PyErr_SetString(PyExc_TypeError, "joined(values): a list of str");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    PyObject *kept = PyList_New(0), *seen = NULL, *out = NULL;
    if (kept == NULL) return NULL;
    if (n > 16 && (seen = PySet_New(NULL)) == NULL) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        if (!PyUnicode_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "joined(values): a list of str");
            goto done;
        }
        if (PyUnicode_GET_LENGTH(value) == 0) continue;
        int repeated = 0;
        if (seen != NULL) {
            repeated = PySet_Contains(seen, value);
            if (repeated < 0 || (!repeated && PySet_Add(seen, value) < 0)) goto done;
        } else {
            Py_ssize_t m = PyList_GET_SIZE(kept);
            for (Py_ssize_t k = 0; k < m && !repeated; k++) {
                repeated = PyUnicode_Compare(PyList_GET_ITEM(kept, k), value) == 0;
            }
        }
        if (!repeated && PyList_Append(kept, value) < 0) goto done;
    }
    if (PyList_GET_SIZE(kept) == 0) {
        out = Py_NewRef(EMPTY);
    } else {
        PyObject *middle = PyUnicode_Join(NEWLINE, kept);
        if (middle != NULL) {
            PyObject *parts[] = {NEWLINE, middle, NEWLINE};
            out = concat(parts, 3);
            Py_DECREF(middle);
        }
    }
done:
    Py_DECREF(kept);
    Py_XDECREF(seen);
    return out;
}

static int hex_value(Py_UCS4 c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

/* A UUID's 16 bytes from its text into `out`: bytes.fromhex(text.replace("-", "")) for a
   UUID in standard form (the store's ids, validated); ValueError for anything else. */
static int uuid_into(PyObject *text, unsigned char out[16]) {
    if (!is_uuid(text)) {
        PyErr_SetString(PyExc_ValueError, "not a UUID in standard string form");
        return -1;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int byte = 0, high = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        int value = hex_value(PyUnicode_READ(kind, data, i));
        if (value < 0) continue; /* a hyphen */
        if (high < 0) {
            high = value;
        } else {
            out[byte++] = (unsigned char)(high << 4 | value);
            high = -1;
        }
    }
    return 0;
}

static PyObject *uuid_bytes(PyObject *module, PyObject *text) {
    (void)module;
    unsigned char out[16];
    if (uuid_into(text, out) < 0) return NULL;
    return PyBytes_FromStringAndSize((const char *)out, 16);
}

/* --- binary COPY ------------------------------------------------------------------------ */

typedef struct {
    char *data;
    Py_ssize_t length, capacity;
} Buffer;

static int grow(Buffer *out, Py_ssize_t more) {
    if (out->length + more <= out->capacity) return 0;
    Py_ssize_t capacity = out->capacity ? out->capacity : 4096;
    while (capacity < out->length + more) capacity *= 2;
    char *data = PyMem_Realloc(out->data, (size_t)capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    out->data = data;
    out->capacity = capacity;
    return 0;
}

static int put(Buffer *out, const void *bytes, Py_ssize_t length) {
    if (grow(out, length) < 0) return -1;
    memcpy(out->data + out->length, bytes, (size_t)length);
    out->length += length;
    return 0;
}

static int put_be(Buffer *out, unsigned long long value, int size) {
    unsigned char bytes[8];
    for (int k = 0; k < size; k++) bytes[k] = (unsigned char)(value >> (8 * (size - 1 - k)));
    return put(out, bytes, size);
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

#define PG_EPOCH_DAYS 10957 /* 2000-01-01, PostgreSQL's epoch, in days from 1970-01-01 */

/* An aware datetime as PostgreSQL's timestamptz: microseconds from 2000-01-01 UTC. */
static int timestamptz_micros(PyObject *value, long long *micros) {
    if (!PyDateTime_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "timestamptz: a datetime is needed");
        return -1;
    }
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(value);
    long long offset = 0;
    if (tz == Py_None) {
        PyErr_SetString(PyExc_TypeError, "timestamptz: the datetime is naive");
        return -1;
    }
    if (tz != PyDateTime_TimeZone_UTC) {
        PyObject *delta = PyObject_CallMethod(value, "utcoffset", NULL);
        if (delta == NULL) return -1;
        if (!PyDelta_Check(delta)) {
            Py_DECREF(delta);
            PyErr_SetString(PyExc_TypeError, "timestamptz: the datetime is naive");
            return -1;
        }
        offset = ((long long)PyDateTime_DELTA_GET_DAYS(delta) * 86400 +
                  PyDateTime_DELTA_GET_SECONDS(delta)) * 1000000LL +
                 PyDateTime_DELTA_GET_MICROSECONDS(delta);
        Py_DECREF(delta);
    }
    long long days = days_from_civil(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value),
                                     PyDateTime_GET_DAY(value)) - PG_EPOCH_DAYS;
    long long seconds = days * 86400 + PyDateTime_DATE_GET_HOUR(value) * 3600 +
                        PyDateTime_DATE_GET_MINUTE(value) * 60 +
                        PyDateTime_DATE_GET_SECOND(value);
    *micros = seconds * 1000000LL + PyDateTime_DATE_GET_MICROSECOND(value) - offset;
    return 0;
}

/* One value in the binary format of its column's type code: q int8, u uuid (canonical
   text), t text or varchar, T timestamptz, d float8, b bool. */
static int put_value(Buffer *out, PyObject *value, char type) {
    if (value == Py_None) return put_be(out, 0xFFFFFFFFULL, 4);
    switch (type) {
        case 'q': {
            long long number = PyLong_AsLongLong(value);
            if (number == -1 && PyErr_Occurred()) return -1;
            if (put_be(out, 8, 4) < 0) return -1;
            return put_be(out, (unsigned long long)number, 8);
        }
        case 'u': {
            unsigned char bytes[16];
            if (uuid_into(value, bytes) < 0 || put_be(out, 16, 4) < 0) return -1;
            return put(out, bytes, 16);
        }
        case 't': {
            if (!PyUnicode_Check(value)) {
                PyErr_SetString(PyExc_TypeError, "text: a str is needed");
                return -1;
            }
            Py_ssize_t length;
            const char *text = PyUnicode_AsUTF8AndSize(value, &length);
            if (text == NULL) return -1;
            if (length > 0x7FFFFFFF) {
                PyErr_SetString(PyExc_ValueError, "text: too long for one COPY field");
                return -1;
            }
            if (put_be(out, (unsigned long long)length, 4) < 0) return -1;
            return put(out, text, length);
        }
        case 'T': {
            long long micros;
            if (timestamptz_micros(value, &micros) < 0) return -1;
            if (put_be(out, 8, 4) < 0) return -1;
            return put_be(out, (unsigned long long)micros, 8);
        }
        case 'd': {
            double number = PyFloat_AsDouble(value);
            if (number == -1.0 && PyErr_Occurred()) return -1;
            unsigned long long bits;
            memcpy(&bits, &number, 8);
            if (put_be(out, 8, 4) < 0) return -1;
            return put_be(out, bits, 8);
        }
        case 'b': {
            if (!PyBool_Check(value)) {
                PyErr_SetString(PyExc_TypeError, "bool: a bool is needed");
                return -1;
            }
            unsigned char byte = value == Py_True;
            if (put_be(out, 1, 4) < 0) return -1;
            return put(out, &byte, 1);
        }
        default:
            PyErr_Format(PyExc_ValueError, "unknown column type code %c", type);
            return -1;
    }
}

static const char COPY_SIGNATURE[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

static PyObject *copy_binary(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2 || !PyUnicode_IS_COMPACT_ASCII(args[1])) {
        PyErr_SetString(PyExc_TypeError, "copy_binary(rows, types): types a str of codes");
        return NULL;
    }
    const char *types = (const char *)PyUnicode_DATA(args[1]);
    Py_ssize_t columns = PyUnicode_GET_LENGTH(args[1]);
    if (columns > 0x7FFF) {
        PyErr_SetString(PyExc_ValueError, "too many columns");
        return NULL;
    }
    PyObject *rows = PyObject_GetIter(args[0]);
    if (rows == NULL) return NULL;
    Buffer out = {NULL, 0, 0};
    PyObject *row, *result = NULL;
    if (put(&out, COPY_SIGNATURE, (Py_ssize_t)sizeof(COPY_SIGNATURE) - 1) < 0) goto done;
    while ((row = PyIter_Next(rows)) != NULL) {
        PyObject *fields = PySequence_Fast(row, "copy_binary: each row a sequence");
        Py_DECREF(row);
        if (fields == NULL) goto done;
        int failed = 0;
        if (PySequence_Fast_GET_SIZE(fields) != columns) {
            PyErr_SetString(PyExc_ValueError, "copy_binary: a row has another number of values");
            failed = 1;
        } else if (put_be(&out, (unsigned long long)columns, 2) < 0) {
            failed = 1;
        }
        PyObject **values = PySequence_Fast_ITEMS(fields);
        for (Py_ssize_t k = 0; k < columns && !failed; k++) {
            failed = put_value(&out, values[k], types[k]) < 0;
        }
        Py_DECREF(fields);
        if (failed) goto done;
    }
    if (PyErr_Occurred()) goto done;
    if (put_be(&out, 0xFFFF, 2) < 0) goto done;
    result = PyBytes_FromStringAndSize(out.data, out.length);
done:
    Py_DECREF(rows);
    PyMem_Free(out.data);
    return result;
}

static PyMethodDef methods[] = {
    {"copy_binary", (PyCFunction)(void (*)(void))copy_binary, METH_FASTCALL,
     "copy_binary(rows, types): the rows in PostgreSQL's binary COPY format."},
    {"joined", joined, METH_O, "joined(values): services._joined, in C."},
    {"uuid_bytes", uuid_bytes, METH_O, "uuid_bytes(text): a UUID's 16 bytes."},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(body, digits): (property names, whether `digits` digits stand in a row)."},
    {"members", members, METH_O, "members(value): the properties its objects hold."},
    {"digit_run", (PyCFunction)(void (*)(void))digit_run, METH_FASTCALL,
     "digit_run(data, digits): whether `digits` digits stand in a row."},
    {"common", (PyCFunction)(void (*)(void))common, METH_FASTCALL,
     "common(statement, extensions_depth): the common shape's columns, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_ingest",
    .m_doc = "The LRS ingest hot path in C (docs/decisions/0012-native-ingest.md).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__ingest(void) {
    init_tables();
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    ACCOUNT_PREFIX = PyUnicode_InternFromString("Agent|account:");
    SPACE = PyUnicode_InternFromString(" ");
    NEWLINE = PyUnicode_InternFromString("\n");
    EMPTY = PyUnicode_New(0, 0);
    if (ACCOUNT_PREFIX == NULL || SPACE == NULL || NEWLINE == NULL || EMPTY == NULL) return NULL;
    return PyModule_Create(&module);
}
