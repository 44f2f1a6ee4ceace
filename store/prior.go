package store

// Priors: what an incremental source starts from. An incremental run hands
// each incremental source the accounts it read last time (Okta merges the
// users changed since into them, Entra applies a Graph delta to them), and
// drift compares with the same snapshot. Decoding those accounts from
// their JSON rows was most of an incremental run's reading: at 100,000
// people, 1.15 GB allocated, and 14.7 s at 1,000,000 (issue 20). So each
// snapshot also keeps its accounts in a compact binary encoding, in chunks
// of one source, which load with a handful of allocations per chunk and
// no JSON at all.
//
// The priors are derived data, not part of the snapshot's content: the
// chunks of a snapshot are encode(its account rows, in order), byte for
// byte, so `verify` re-derives them and compares (checkPriors) instead of
// hashing them. That keeps the snapshot hash, and so every recorded head,
// exactly what it was, and a snapshot without priors (written before
// migration 10, or whose priors were never written) is read from its
// account rows as before.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idgraph/idgraph/collectors"
)

// priorLayout is the version of the encoding. A reader uses only chunks
// of its own layout (others are read from the account rows instead), so
// any change to what the encoding holds bumps it.
const priorLayout = 1

// priorChunk is the most accounts one chunk holds: large enough that a
// chunk's few allocations are nothing per account, small enough that a
// chunk's blob stays well under SQLite's length limit whatever the
// accounts hold.
const priorChunk = 4096

// priorShape is the shape of the account that layout 1 encodes, as
// accountShape prints it. When collectors.Account gains, loses or changes
// a field, accountShape no longer matches: priors are then neither
// written nor read (every run reads the account rows, as before migration
// 10) until the encoding learns the field and priorLayout is bumped.
// TestPriorShape fails first, to say so.
const priorShape = "Account{Source string; ID string; Team string; TeamName string; Email string; " +
	"Addresses []collectors.Address{Field string; Value string}; DisplayName string; EmployeeID string; " +
	"Status collectors.Status; RawStatus string; Guest bool; StatusChanged time.Time; LastActivity time.Time; " +
	"Groups []string; NestedGroups []string; " +
	"Assignments []collectors.Assignment{App string; InForce bool; Via []string; Roles []string}; " +
	"Manager string; Role string}"

// accountShape describes collectors.Account's fields and those of the
// structs it holds, in declaration order.
func accountShape() string {
	var b strings.Builder
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		b.WriteString("{")
		for i := range t.NumField() {
			f := t.Field(i)
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.Name + " " + f.Type.String())
			et := f.Type
			if et.Kind() == reflect.Slice {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && et.PkgPath() == reflect.TypeFor[collectors.Account]().PkgPath() {
				walk(et)
			}
		}
		b.WriteString("}")
	}
	b.WriteString("Account")
	walk(reflect.TypeFor[collectors.Account]())
	return b.String()
}

// priorsUsable says whether this binary's encoding covers every field of
// collectors.Account.
func priorsUsable() bool { return accountShape() == priorShape }

// A chunk is one source's accounts at consecutive positions of a
// snapshot. Its blob is:
//
//	uvarint accounts, addresses, list strings, assignments (the counts the
//	        decoder allocates at once)
//	per account, in order: Source ID Team TeamName Email DisplayName
//	        EmployeeID Status RawStatus Manager Role (strings), Guest (a
//	        byte), StatusChanged LastActivity (times), Addresses (count,
//	        then Field Value each), Groups, NestedGroups (count, strings),
//	        Assignments (count, then App, InForce byte, Via, Roles each)
//
// A string is a uvarint v: 0 the empty string; odd, the (v-1)/2-th
// string the chunk spelled out before; even, a new string of v/2 bytes
// that follow. Sources, statuses, group names and e-mail addresses that
// recur (a login that is also the e-mail) are so stored once a chunk. A
// time is a uvarint 0 (the zero time), 1 (UTC) or 2 (a fixed offset),
// then the zigzag Unix seconds, the nanoseconds and, for 2, the zigzag
// offset in seconds: what the RFC 3339 text of the JSON rows says, in
// fewer bytes and without parsing.

// priorEncoder builds one chunk.
type priorEncoder struct {
	body []byte
	dict map[string]uint64
	n    [4]uint64 // accounts, addresses, list strings, assignments
}

func newPriorEncoder() *priorEncoder {
	return &priorEncoder{dict: map[string]uint64{}}
}

func (e *priorEncoder) reset() {
	e.body = e.body[:0]
	clear(e.dict)
	e.n = [4]uint64{}
}

func (e *priorEncoder) uvarint(v uint64) { e.body = binary.AppendUvarint(e.body, v) }
func (e *priorEncoder) varint(v int64)   { e.body = binary.AppendVarint(e.body, v) }

func (e *priorEncoder) str(s string) {
	if s == "" {
		e.uvarint(0)
		return
	}
	s = jsonText(s)
	if k, ok := e.dict[s]; ok {
		e.uvarint(2*k + 1)
		return
	}
	e.dict[s] = uint64(len(e.dict))
	e.uvarint(2 * uint64(len(s)))
	e.body = append(e.body, s...)
}

// jsonText is s as it reads back from a JSON row: encoding/json replaces
// each byte that is not valid UTF-8 with U+FFFD. The encoding holds what
// the account rows hold, so that it can be derived from them.
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func (e *priorEncoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	e.n[2] += uint64(len(ss))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *priorEncoder) time(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	_, off := t.Zone()
	if off == 0 {
		e.uvarint(1)
	} else {
		e.uvarint(2)
	}
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	if off != 0 {
		e.varint(int64(off))
	}
}

func (e *priorEncoder) bool(v bool) {
	if v {
		e.body = append(e.body, 1)
	} else {
		e.body = append(e.body, 0)
	}
}

func (e *priorEncoder) account(a *collectors.Account) {
	e.n[0]++
	for _, s := range [...]string{a.Source, a.ID, a.Team, a.TeamName, a.Email, a.DisplayName, a.EmployeeID,
		string(a.Status), a.RawStatus, a.Manager, a.Role} {
		e.str(s)
	}
	e.bool(a.Guest)
	e.time(a.StatusChanged)
	e.time(a.LastActivity)
	e.uvarint(uint64(len(a.Addresses)))
	e.n[1] += uint64(len(a.Addresses))
	for _, ad := range a.Addresses {
		e.str(ad.Field)
		e.str(ad.Value)
	}
	e.strs(a.Groups)
	e.strs(a.NestedGroups)
	e.uvarint(uint64(len(a.Assignments)))
	e.n[3] += uint64(len(a.Assignments))
	for i := range a.Assignments {
		as := &a.Assignments[i]
		e.str(as.App)
		e.bool(as.InForce)
		e.strs(as.Via)
		e.strs(as.Roles)
	}
}

// blob returns the chunk: the counts, then the accounts.
func (e *priorEncoder) blob() []byte {
	out := make([]byte, 0, len(e.body)+4*binary.MaxVarintLen64)
	for _, n := range e.n {
		out = binary.AppendUvarint(out, n)
	}
	return append(out, e.body...)
}

// priorChunkRow is one chunk as stored.
type priorChunkRow struct {
	id       int64 // accountRow(snapshot, seq of its first account)
	source   string
	accounts int
	data     []byte
}

// encodePriors cuts accounts (a snapshot's, in order) into chunks and
// calls emit with each. The cut depends on the accounts alone, so the
// chunks of a snapshot can be derived again from its rows.
func encodePriors(snapshot int64, accounts []collectors.Account, emit func(priorChunkRow) error) error {
	e := newPriorEncoder()
	for start := 0; start < len(accounts); {
		end := start
		for end < len(accounts) && end-start < priorChunk && accounts[end].Source == accounts[start].Source {
			e.account(&accounts[end])
			end++
		}
		if err := emit(priorChunkRow{id: accountRow(snapshot, start), source: accounts[start].Source, accounts: end - start, data: e.blob()}); err != nil {
			return err
		}
		e.reset()
		start = end
	}
	return nil
}

// writePriors stores the priors of snap, whose rows tx has just written
// (WriteSnapshot calls it with its own transaction, so that a snapshot
// and its priors are stored together or not at all).
func (s *Store) writePriors(ctx context.Context, tx *sql.Tx, snap *Snapshot) error {
	if !priorsUsable() {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO priors (id, snapshot_id, source, accounts, layout, data) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: writing snapshot %d's priors: %w", snap.ID, err)
	}
	defer st.Close()
	return encodePriors(snap.ID, snap.Graph.Accounts, func(c priorChunkRow) error {
		if _, err := st.ExecContext(ctx, c.id, snap.ID, c.source, c.accounts, priorLayout, c.data); err != nil {
			return fmt.Errorf("store: writing snapshot %d's priors of %s: %w", snap.ID, c.source, err)
		}
		return nil
	})
}

// WritePriors stores the priors of snap, a snapshot WriteSnapshot has
// written, in a transaction of its own, unless the store has them
// already. It is for a caller that writes them after the snapshot;
// priors that a crash kept from being written cost the next incremental
// run a read of the account rows, nothing else.
func (s *Store) WritePriors(ctx context.Context, snap *Snapshot) (err error) {
	if !priorsUsable() || snap.ID == 0 || snap.Graph == nil {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: writing snapshot %d's priors: %w", snap.ID, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var have, accounts int
	var hash string
	if err = tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM priors WHERE id >= ?1 AND id < ?2), accounts, hash FROM snapshots WHERE id = ?3`,
		accountRow(snap.ID, 0), accountRow(snap.ID+1, 0), snap.ID).Scan(&have, &accounts, &hash); err != nil {
		return fmt.Errorf("store: writing snapshot %d's priors: %w", snap.ID, err)
	}
	switch {
	case have > 0:
		return tx.Rollback()
	case hash != snap.Hash || accounts != len(snap.Graph.Accounts):
		return fmt.Errorf("store: writing snapshot %d's priors: the snapshot given is not the one stored (hash %.12s, %d accounts; stored %.12s, %d)",
			snap.ID, snap.Hash, len(snap.Graph.Accounts), hash, accounts)
	}
	if err = s.writePriors(ctx, tx, snap); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: committing snapshot %d's priors: %w", snap.ID, err)
	}
	return nil
}

// PriorRead says where PriorAccounts found the accounts.
type PriorRead struct {
	// Encoded: from the snapshot's priors; else from its account rows.
	Encoded bool
	// Problem, when not "", is why priors the snapshot has could not be
	// used (a chunk that does not decode): the accounts came from the rows,
	// and `idgraph verify` says whether the priors were altered.
	Problem string
}

// PriorAccounts returns snapshot id's accounts of the named sources (every
// source when none is named) in the snapshot's order, as their sources
// reported them: what an incremental source starts from and drift
// compares with. They come from the snapshot's priors when it has a full
// set in this binary's layout, else from its account rows, which every
// snapshot has (format 1 and 2 stores, snapshots written before
// migration 10).
func (s *Store) PriorAccounts(ctx context.Context, id int64, sources ...string) ([]collectors.Account, PriorRead, error) {
	var read PriorRead
	accs, err := s.priorAccounts(ctx, id, sources)
	switch {
	case err == nil:
		return accs, PriorRead{Encoded: true}, nil
	case errors.Is(err, errPriorCorrupt):
		read.Problem = err.Error()
	case !errors.Is(err, errNoPriors):
		return nil, read, err
	}
	las, err := s.Accounts(ctx, id, sources...)
	if err != nil {
		return nil, read, err
	}
	accs = make([]collectors.Account, len(las))
	for i := range las {
		accs[i] = las[i].Account
	}
	return accs, read, nil
}

// errNoPriors: the snapshot has no usable priors; read its account rows.
var errNoPriors = errors.New("no usable priors")

func (s *Store) priorAccounts(ctx context.Context, id int64, sources []string) ([]collectors.Account, error) {
	if !priorsUsable() {
		return nil, errNoPriors
	}
	// A full set: the chunks, all of this layout, hold every account of
	// the snapshot. Anything else (none, another layout, a set a crash
	// cut short) is read from the rows.
	var chunks, held, other, stored int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(accounts), 0), COALESCE(SUM(layout != ?3), 0),
		COALESCE((SELECT accounts FROM snapshots WHERE id = ?4), -1) FROM priors WHERE id >= ?1 AND id < ?2`,
		accountRow(id, 0), accountRow(id+1, 0), priorLayout, id).Scan(&chunks, &held, &other, &stored); err != nil {
		return nil, fmt.Errorf("store: reading snapshot %d's priors: %w", id, err)
	}
	if chunks == 0 || held != stored || other != 0 {
		return nil, errNoPriors
	}
	q := `SELECT id, source, accounts, data FROM priors WHERE id >= ? AND id < ?`
	args := accountRange(id)
	if len(sources) > 0 {
		in := ` AND source IN (?` + strings.Repeat(",?", len(sources)-1) + `)`
		q += in
		for _, s := range sources {
			args = append(args, s)
		}
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(accounts), 0) FROM priors WHERE id >= ? AND id < ?`+in, args...).Scan(&held); err != nil {
			return nil, fmt.Errorf("store: reading snapshot %d's priors: %w", id, err)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading snapshot %d's priors: %w", id, err)
	}
	defer rows.Close()
	out := make([]collectors.Account, 0, held)
	var d priorDecoder
	for rows.Next() {
		var cid int64
		var source string
		var n int
		var data sql.RawBytes
		if err := rows.Scan(&cid, &source, &n, &data); err != nil {
			return nil, err
		}
		before := len(out)
		// One copy of the blob as a string: every string of the chunk's
		// accounts is a part of it, so decoding allocates no string.
		if out, err = d.chunk(string(data), out); err != nil {
			return nil, fmt.Errorf("store: snapshot %d: the priors chunk at account %d of %s cannot be decoded (%w); "+
				"verify checks them against the account rows", id, cid&(1<<32-1), source, err)
		}
		if got := len(out) - before; got != n {
			return nil, fmt.Errorf("store: snapshot %d: the priors chunk at account %d of %s holds %d accounts, not %d: %w", id, cid&(1<<32-1), source, got, n, errPriorCorrupt)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading snapshot %d's priors: %w", id, err)
	}
	return out, nil
}

// priorDecoder reads chunks. Its dictionary is reused from chunk to
// chunk.
type priorDecoder struct {
	s    string
	off  int
	dict []string
	err  error
	locs map[int]*time.Location
}

var errPriorCorrupt = errors.New("corrupt priors chunk")

func (d *priorDecoder) fail() {
	if d.err == nil {
		d.err = errPriorCorrupt
	}
	d.off = len(d.s)
}

func (d *priorDecoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.off >= len(d.s) {
			d.fail()
			return 0
		}
		c := d.s[d.off]
		d.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail()
	return 0
}

func (d *priorDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a length that the rest of the chunk must be able to hold
// (every element takes at least a byte), so that a corrupt count cannot
// make the decoder allocate without bound.
func (d *priorDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.off) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *priorDecoder) str() string {
	v := d.uvarint()
	switch {
	case v == 0:
		return ""
	case v&1 == 1:
		k := (v - 1) / 2
		if k >= uint64(len(d.dict)) {
			d.fail()
			return ""
		}
		return d.dict[k]
	}
	n := v / 2
	if n > uint64(len(d.s)-d.off) {
		d.fail()
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	d.dict = append(d.dict, s)
	return s
}

func (d *priorDecoder) bool() bool {
	if d.off >= len(d.s) {
		d.fail()
		return false
	}
	c := d.s[d.off]
	d.off++
	if c > 1 {
		d.fail()
	}
	return c == 1
}

func (d *priorDecoder) time() time.Time {
	kind := d.uvarint()
	if kind == 0 {
		return time.Time{}
	}
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 || kind > 2 {
		d.fail()
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if kind == 1 {
		return t.UTC()
	}
	off := int(d.varint())
	loc, ok := d.locs[off]
	if !ok {
		if d.locs == nil {
			d.locs = map[int]*time.Location{}
		}
		loc = time.FixedZone("", off)
		d.locs[off] = loc
	}
	return t.In(loc)
}

// strs reads a list into the chunk's arena of list strings.
func (d *priorDecoder) strs(arena *[]string) []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	if n > cap(*arena)-len(*arena) {
		d.fail()
		return nil
	}
	a := *arena
	start := len(a)
	for range n {
		a = append(a, d.str())
	}
	*arena = a
	return a[start:len(a):len(a)]
}

// chunk decodes one chunk, appending its accounts to out. The accounts'
// slices are parts of a few arrays per chunk, each cut to its own
// capacity, so that appending to one account's list never writes into
// another's.
func (d *priorDecoder) chunk(s string, out []collectors.Account) ([]collectors.Account, error) {
	d.s, d.off, d.err, d.dict = s, 0, nil, d.dict[:0]
	var n [4]int
	for i := range n {
		n[i] = d.count()
	}
	if d.err != nil {
		return out, d.err
	}
	addrs := make([]collectors.Address, 0, n[1])
	lists := make([]string, 0, n[2])
	asgs := make([]collectors.Assignment, 0, n[3])
	for range n[0] {
		var a collectors.Account
		a.Source, a.ID, a.Team, a.TeamName, a.Email = d.str(), d.str(), d.str(), d.str(), d.str()
		a.DisplayName, a.EmployeeID, a.Status, a.RawStatus = d.str(), d.str(), collectors.Status(d.str()), d.str()
		a.Manager, a.Role = d.str(), d.str()
		a.Guest = d.bool()
		a.StatusChanged, a.LastActivity = d.time(), d.time()
		if k := d.count(); k > 0 {
			if k > cap(addrs)-len(addrs) {
				d.fail()
				break
			}
			start := len(addrs)
			for range k {
				addrs = append(addrs, collectors.Address{Field: d.str(), Value: d.str()})
			}
			a.Addresses = addrs[start:len(addrs):len(addrs)]
		}
		a.Groups = d.strs(&lists)
		a.NestedGroups = d.strs(&lists)
		if k := d.count(); k > 0 {
			if k > cap(asgs)-len(asgs) {
				d.fail()
				break
			}
			start := len(asgs)
			for range k {
				as := collectors.Assignment{App: d.str(), InForce: d.bool()}
				as.Via = d.strs(&lists)
				as.Roles = d.strs(&lists)
				asgs = append(asgs, as)
			}
			a.Assignments = asgs[start:len(asgs):len(asgs)]
		}
		if d.err != nil {
			break
		}
		out = append(out, a)
	}
	if d.err == nil && d.off != len(d.s) {
		d.err = fmt.Errorf("%w: %d bytes after the last account", errPriorCorrupt, len(d.s)-d.off)
	}
	return out, d.err
}

// checkPriors re-derives snapshot id's priors from its account rows and
// compares them with the stored ones: "" when they agree, or when the
// snapshot has none or has them in a layout this binary neither reads nor
// knows how to derive (such chunks are never read). It is how `verify`
// covers them: they are not in the snapshot's hash, so that the hash and
// every head recorded elsewhere stay what they were before migration 10.
func (s *Store) checkPriors(ctx context.Context, id int64) (string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, source, accounts, layout, data FROM priors WHERE id >= ? AND id < ? ORDER BY id`, accountRange(id)...)
	if err != nil {
		return "", fmt.Errorf("store: reading snapshot %d's priors: %w", id, err)
	}
	var stored []priorChunkRow
	for rows.Next() {
		var c priorChunkRow
		var layout int
		if err := rows.Scan(&c.id, &c.source, &c.accounts, &layout, &c.data); err != nil {
			rows.Close()
			return "", err
		}
		if layout != priorLayout || !priorsUsable() {
			rows.Close()
			return "", nil
		}
		stored = append(stored, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(stored) == 0 {
		return "", nil
	}
	las, err := s.Accounts(ctx, id)
	if err != nil {
		return "", err
	}
	accs := make([]collectors.Account, len(las))
	for i := range las {
		accs[i] = las[i].Account
	}
	k := 0
	problem := ""
	err = encodePriors(id, accs, func(c priorChunkRow) error {
		switch {
		case k >= len(stored):
			problem = fmt.Sprintf("its priors lack the accounts from %d of %s on (the accounts they were derived from changed, or a chunk was deleted)", c.id&(1<<32-1), c.source)
		case stored[k].id != c.id || stored[k].source != c.source || stored[k].accounts != c.accounts || !bytes.Equal(stored[k].data, c.data):
			problem = fmt.Sprintf("its priors chunk at account %d of %s differs from what its account rows give (a priors or account row was changed)", stored[k].id&(1<<32-1), stored[k].source)
		}
		k++
		if problem != "" {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return "", err
	}
	if problem == "" && k < len(stored) {
		problem = fmt.Sprintf("its priors hold a chunk at account %d of %s that its account rows do not give (a chunk was added)", stored[k].id&(1<<32-1), stored[k].source)
	}
	return problem, nil
}

var errStop = errors.New("stop")
