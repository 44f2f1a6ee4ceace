package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/review"
)

// Review campaigns (docs/RULES.md, "Review"): their rows and their entries
// in the evidence chain.
//
// A campaign freezes the population of one snapshot for its applications:
// every app account of them (campaign_accounts) and the items reviewers
// decide about (campaign_items): every open finding of the applications,
// and every app account that no finding names. Such an account's access is
// reviewed too (approve = keep, revoke, modify); its decisions are recorded
// like any other, under the finding key "access/<app>/<account key>" of a
// finding of kind "access" (severity info) that the campaign makes of the
// account, so that the decision follows the account across snapshots and
// campaigns as a finding's does.

// KindAccess is the kind of a campaign item about an account that no
// finding names: its access is reviewed as it is.
const KindAccess = "access"

// ErrNoCampaign: the campaign named does not exist.
var ErrNoCampaign = errors.New("no such campaign")

// ErrNoCompleteSnapshot: no snapshot read the campaign's sources in full.
var ErrNoCompleteSnapshot = errors.New("no snapshot with the campaign's sources complete")

// ErrUnrouted: some items have no reviewer by the routing rule, and no
// fallback reviewer takes them.
var ErrUnrouted = errors.New("campaign items without a reviewer")

// refused is a campaign rule's refusal: it matches review.ErrRefused, so
// that every entry point maps it as it maps the review rules' refusals.
type refused struct{ msg string }

func (r *refused) Error() string        { return r.msg }
func (r *refused) Is(target error) bool { return target == review.ErrRefused }

// Campaign is a campaign as started, with its sign-off once there is one.
type Campaign struct {
	ID           int64          `json:"id"`
	Apps         []string       `json:"apps"`
	SnapshotID   int64          `json:"snapshot_id"`
	SnapshotHash string         `json:"snapshot_hash"`
	Routing      review.Routing `json:"routing"`
	Due          time.Time      `json:"due"`
	StartedBy    string         `json:"started_by"`
	StartedAt    time.Time      `json:"started_at"`
	Accounts     int            `json:"accounts"`
	Items        int            `json:"items"`
	Signoff      *Signoff       `json:"signoff,omitempty"`
}

// Open reports whether the campaign is not signed off.
func (c *Campaign) Open() bool { return c.Signoff == nil }

// CampaignItem is one frozen item of a campaign.
type CampaignItem struct {
	Campaign  int64        `json:"campaign"`
	Seq       int          `json:"seq"`
	Kind      string       `json:"item_kind"` // finding | access
	Key       string       `json:"key"`       // the finding key decisions are recorded under
	ID        string       `json:"id"`
	App       string       `json:"app"`
	Person    string       `json:"person"`
	Email     string       `json:"email"`
	Addresses []string     `json:"addresses,omitempty"`
	Reviewer  string       `json:"reviewer"`
	RoutedBy  string       `json:"routed_by"`
	Finding   diff.Finding `json:"finding"`
}

// PopulationAccount is one frozen account of a campaign's population.
type PopulationAccount struct {
	Seq         int    `json:"seq"`
	App         string `json:"app"`
	PersonEmail string `json:"person_email"`
	ItemKey     string `json:"item_key"` // the item its access is decided under
	LinkedAccount
}

// Signoff is a campaign's sign-off.
type Signoff struct {
	ID       int64           `json:"id"`
	By       string          `json:"by"`
	At       time.Time       `json:"at"`
	Progress review.Progress `json:"progress"`
	Revokes  []RevokeState   `json:"revokes"`
}

// RevokeState is a revoke or modify decision of a campaign and where its
// remediation stands.
type RevokeState struct {
	Item        string `json:"item"` // the item's ID
	Key         string `json:"key"`
	DecisionID  int64  `json:"decision_id"`
	Decision    string `json:"decision"`
	Role        string `json:"role,omitempty"`
	Remediation string `json:"remediation"`
}

// CampaignSpec is what starting a campaign needs.
type CampaignSpec struct {
	Apps      []string
	Due       time.Time
	Routing   review.Routing
	StartedBy string
	Now       time.Time
	// Normalize compares addresses as correlation did (domain aliases);
	// nil: trimmed and case-folded.
	Normalize func(string) string
	LogFile   string // evidence log; "" for none
}

// campaignSnapshot finds the newest snapshot in which every IdP and every
// app source of apps was complete, and says why the newer ones were not.
func (s *Store) campaignSnapshot(ctx context.Context, apps []string) (*Summary, string, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(list) == 0 {
		return nil, "", fmt.Errorf("%w: the store has no snapshot yet", ErrNoSnapshot)
	}
	var skipped []string
	for i := range list {
		sum := &list[i]
		var bad []string
		found := map[string]bool{}
		for _, src := range sum.Sources {
			relevant := src.Info.Kind == collectors.KindIdP
			if src.Info.Kind == collectors.KindApp && slices.Contains(apps, src.Info.App) {
				relevant, found[src.Info.App] = true, true
			}
			if relevant && !src.Completeness.Complete {
				bad = append(bad, src.Info.Name)
			}
		}
		for _, app := range apps {
			if !found[app] {
				bad = append(bad, "no source of "+app)
			}
		}
		if len(bad) == 0 {
			return sum, strings.Join(skipped, "; "), nil
		}
		skipped = append(skipped, fmt.Sprintf("snapshot %d: %s", sum.ID, strings.Join(bad, ", ")))
	}
	return nil, "", fmt.Errorf("%w: no snapshot read %s and the IdPs in full (%s); fix the incomplete source, then run again",
		ErrNoCompleteSnapshot, strings.Join(apps, ", "), cut(skipped, 5))
}

func cut(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, "; ")
	}
	return strings.Join(s[:n], "; ") + fmt.Sprintf("; and %d more", len(s)-n)
}

// StartCampaign freezes the population of the newest snapshot in which
// the applications' sources and the IdPs were complete, routes every item
// by spec.Routing, and records the start as an entry of the evidence
// chain. note says which newer snapshots were passed over and why.
func (s *Store) StartCampaign(ctx context.Context, spec CampaignSpec) (c *Campaign, note string, err error) {
	apps := slices.Clone(spec.Apps)
	slices.Sort(apps)
	apps = slices.Compact(apps)
	if len(apps) == 0 {
		return nil, "", &refused{"a campaign needs at least one application (--app)"}
	}
	sum, note, err := s.campaignSnapshot(ctx, apps)
	if err != nil {
		return nil, "", err
	}
	accounts, err := s.Accounts(ctx, sum.ID)
	if err != nil {
		return nil, "", err
	}
	people, err := s.People(ctx, sum.ID)
	if err != nil {
		return nil, "", err
	}
	findings, err := s.Findings(ctx, sum.ID)
	if err != nil {
		return nil, "", err
	}
	srcs := map[string]collectors.Info{}
	for _, src := range sum.Sources {
		srcs[src.Info.Name] = src.Info
	}
	// Routing knows every person by every address of every account, and
	// by the managers their IdP accounts name.
	byPerson := map[string]*review.Person{}
	var order []string
	for _, a := range accounts {
		p := byPerson[a.Person]
		if p == nil {
			p = &review.Person{ID: a.Person, Email: people[a.Person].Email}
			byPerson[a.Person] = p
			order = append(order, a.Person)
		}
		addrs := []string{a.Email}
		for _, ad := range a.Addresses {
			addrs = append(addrs, ad.Value)
		}
		p.Addresses = append(p.Addresses, addrs...)
		if p.IdPAddresses == nil {
			p.IdPAddresses = []string{} // found as a manager only by an IdP address
		}
		if srcs[a.Source].Kind == collectors.KindIdP {
			p.IdPAddresses = append(p.IdPAddresses, addrs...)
			if a.Manager != "" {
				p.Managers = append(p.Managers, a.Manager)
			}
		}
	}
	dir := make([]review.Person, 0, len(order))
	for _, id := range order {
		p := byPerson[id]
		slices.Sort(p.Addresses)
		p.Addresses = slices.Compact(p.Addresses)
		dir = append(dir, *p)
	}
	directory := review.NewDirectory(dir, spec.Normalize)

	c = &Campaign{Apps: apps, SnapshotID: sum.ID, SnapshotHash: sum.Hash, Routing: spec.Routing, Due: spec.Due.UTC(),
		StartedBy: review.Fold(spec.StartedBy), StartedAt: spec.Now.UTC()}
	var items []CampaignItem
	named := map[string]string{} // account key -> the finding item that names it
	for _, f := range findings {
		if f.State != diff.StateOpen || !slices.Contains(apps, f.App) {
			continue
		}
		items = append(items, CampaignItem{Kind: "finding", Key: f.Key, ID: f.ID, App: f.App, Person: f.Person, Email: f.Email, Finding: f})
		if f.Account != "" && named[f.Account] == "" {
			named[f.Account] = f.Key
		}
	}
	var pop []PopulationAccount
	for _, a := range accounts {
		info := srcs[a.Source]
		if info.Kind != collectors.KindApp || !slices.Contains(apps, info.App) {
			continue
		}
		key := named[a.Key()]
		if key == "" {
			f := accessFinding(info.App, a, people[a.Person])
			key = f.Key
			items = append(items, CampaignItem{Kind: KindAccess, Key: f.Key, ID: f.ID, App: f.App, Person: a.Person, Email: f.Email, Finding: f})
		}
		pop = append(pop, PopulationAccount{Seq: len(pop), App: info.App, PersonEmail: people[a.Person].Email, ItemKey: key, LinkedAccount: a})
	}
	var unrouted []string
	for i := range items {
		it := &items[i]
		it.Seq = i
		if p := byPerson[it.Person]; p != nil {
			it.Addresses = p.Addresses
		}
		var emails []string
		for _, e := range it.Finding.Evidence {
			emails = append(emails, e.Email)
		}
		as, err := spec.Routing.Assign(directory, review.Subject{App: it.App, Person: it.Person, Emails: append(emails, it.Email)})
		if err != nil {
			unrouted = append(unrouted, fmt.Sprintf("%s %s (%s): %v", it.Kind, it.ID, it.Email, strings.TrimPrefix(err.Error(), review.ErrNoReviewer.Error()+": ")))
			continue
		}
		it.Reviewer, it.RoutedBy = as.Reviewer, as.Why
	}
	if len(unrouted) > 0 {
		return nil, note, fmt.Errorf("%w: %d of %d items have no reviewer, so the campaign did not start: %s; "+
			"configure review.fallback_reviewer (or the owner or manager the rule needs)", ErrUnrouted, len(unrouted), len(items), cut(unrouted, 10))
	}
	c.Accounts, c.Items = len(pop), len(items)
	appsJSON, _ := json.Marshal(apps)
	routingJSON, _ := json.Marshal(spec.Routing)
	e, err := s.appendEntry(ctx, "campaign", ts(c.StartedAt), func(tx *sql.Tx) (int64, string, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (apps, snapshot_id, snapshot_hash, routing, due_at, started_by, started_at, accounts, items)
			VALUES (?,?,?,?,?,?,?,?,?)`, string(appsJSON), c.SnapshotID, c.SnapshotHash, string(routingJSON), ts(c.Due), c.StartedBy, ts(c.StartedAt), c.Accounts, c.Items)
		if err != nil {
			return 0, "", fmt.Errorf("store: recording the campaign: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return 0, "", err
		}
		ab := newBatch(tx, "campaign_accounts", 9)
		for _, p := range pop {
			data, err := json.Marshal(&p.Account)
			if err != nil {
				return 0, "", err
			}
			if err := ab.add(ctx, c.ID, p.Seq, p.App, p.Key(), p.Person, p.PersonEmail, p.LinkReason, p.ItemKey, string(data)); err != nil {
				return 0, "", fmt.Errorf("store: freezing account %s: %w", p.Key(), err)
			}
		}
		if err := ab.flush(ctx); err != nil {
			return 0, "", err
		}
		ib := newBatch(tx, "campaign_items", 12)
		for _, it := range items {
			data, _ := json.Marshal(&it.Finding)
			addrs, _ := json.Marshal(it.Addresses)
			if err := ib.add(ctx, c.ID, it.Seq, it.Kind, it.Key, it.ID, it.App, it.Person, it.Email, string(addrs), it.Reviewer, it.RoutedBy, string(data)); err != nil {
				return 0, "", fmt.Errorf("store: freezing item %s: %w", it.Key, err)
			}
		}
		if err := ib.flush(ctx); err != nil {
			return 0, "", err
		}
		detail, _ := json.Marshal(map[string]any{"note": note})
		return insertEvent(ctx, tx, c.ID, "start", c.StartedBy, ts(c.StartedAt), string(detail))
	})
	if err != nil {
		return nil, note, err
	}
	return c, note, s.logEntry(ctx, spec.LogFile, e)
}

// accessFinding is the finding a campaign makes of an account that no
// finding names: its access, to be kept (approve), revoked or modified.
func accessFinding(app string, a LinkedAccount, p Person) diff.Finding {
	key := KindAccess + "/" + app + "/" + a.Key() // as diff builds keys: kind/app/subject
	sum := sha256.Sum256([]byte(key))
	role := a.Role
	st := a.RawStatus
	if st == "" {
		st = string(a.Status)
	}
	return diff.Finding{ID: hex.EncodeToString(sum[:8]), Key: key, Kind: KindAccess, Reason: string(a.Status), Severity: diff.SevInfo,
		State: diff.StateOpen, App: app, Team: a.Team, TeamName: a.TeamName, Email: a.Email, DisplayName: a.DisplayName, Person: a.Person,
		Account: a.Key(), ActualRole: role, ExpectedRole: p.ExpectedRole, ExpectedWhy: p.ExpectedWhy,
		Explanation: "access to review: keep it (approve), remove it (revoke) or change its role (modify)",
		Evidence:    []diff.Evidence{{Source: a.Source, Account: a.Key(), Email: a.Email, Status: st, Detail: "role " + role}}}
}

func insertEvent(ctx context.Context, tx *sql.Tx, campaign int64, event, actor, at, detail string) (int64, string, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO campaign_events (campaign_id, event, actor, at, detail) VALUES (?,?,?,?,?)`, campaign, event, actor, at, detail)
	if err != nil {
		return 0, "", fmt.Errorf("store: recording the campaign's %s: %w", event, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, "", err
	}
	body, err := campaignBody(ctx, tx, "campaign", id)
	return id, body, err
}

// RecordCampaignEvent records an event of a campaign (a reminder sent) as
// an entry of the evidence chain.
func (s *Store) RecordCampaignEvent(ctx context.Context, id int64, event, actor string, at time.Time, detail any, logFile string) error {
	if _, err := s.Campaign(ctx, id); err != nil {
		return err
	}
	dj, _ := json.Marshal(detail)
	e, err := s.appendEntry(ctx, "campaign", ts(at), func(tx *sql.Tx) (int64, string, error) {
		return insertEvent(ctx, tx, id, event, review.Fold(actor), ts(at), string(dj))
	})
	if err != nil {
		return err
	}
	return s.logEntry(ctx, logFile, e)
}

// campaignRow is a campaign's canonical columns, as its entries' bodies
// carry them.
type campaignRow struct {
	ID           int64  `json:"id"`
	Apps         string `json:"apps"`
	SnapshotID   int64  `json:"snapshot_id"`
	SnapshotHash string `json:"snapshot_hash"`
	Routing      string `json:"routing"`
	DueAt        string `json:"due_at"`
	StartedBy    string `json:"started_by"`
	StartedAt    string `json:"started_at"`
	Accounts     int    `json:"accounts"`
	Items        int    `json:"items"`
	// Population is SHA-256 over every frozen account and item row, so
	// that an entry's body changes when any of them does.
	Population string `json:"population_sha256"`
}

func readCampaignRow(ctx context.Context, q querier, id int64) (*campaignRow, error) {
	var r campaignRow
	err := q.QueryRowContext(ctx, `SELECT id, apps, snapshot_id, snapshot_hash, routing, due_at, started_by, started_at, accounts, items FROM campaigns WHERE id = ?`, id).
		Scan(&r.ID, &r.Apps, &r.SnapshotID, &r.SnapshotHash, &r.Routing, &r.DueAt, &r.StartedBy, &r.StartedAt, &r.Accounts, &r.Items)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoRow
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading campaign %d: %w", id, err)
	}
	if r.Population, err = populationSum(ctx, q, id); err != nil {
		return nil, err
	}
	return &r, nil
}

// populationSum hashes a campaign's frozen rows, every column, in order.
func populationSum(ctx context.Context, q querier, id int64) (string, error) {
	h := &hasher{h: sha256.New()}
	for _, t := range []struct{ tag, sql string }{
		{"account", `SELECT seq, app, account_key, person_id, person_email, link_reason, item_key, data FROM campaign_accounts WHERE campaign_id = ? ORDER BY seq`},
		{"item", `SELECT seq, kind, item_key, item_id, app, person_id, email, addresses, reviewer, routed_by, data FROM campaign_items WHERE campaign_id = ? ORDER BY seq`},
	} {
		rows, err := q.QueryContext(ctx, t.sql, id)
		if err != nil {
			return "", fmt.Errorf("store: reading campaign %d's population: %w", id, err)
		}
		cols, _ := rows.Columns()
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			h.row(append([]string{t.tag}, vals...)...)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
		h.row(t.tag+"s", strconv.Itoa(n))
	}
	return h.sum(), nil
}

type eventRow struct {
	ID       int64        `json:"id"`
	Event    string       `json:"event"`
	Actor    string       `json:"actor"`
	At       string       `json:"at"`
	Detail   string       `json:"detail"`
	Campaign *campaignRow `json:"campaign"`
}

type signoffRow struct {
	ID        int64        `json:"id"`
	Reviewer  string       `json:"reviewer"`
	SignedAt  string       `json:"signed_at"`
	Decided   int          `json:"decided"`
	Undecided int          `json:"undecided"`
	Overdue   int          `json:"overdue"`
	Detail    string       `json:"detail"`
	Campaign  *campaignRow `json:"campaign"`
}

// campaignBody returns the canonical body of a campaign event or sign-off:
// its row, and the campaign's row with the hash of its frozen population.
func campaignBody(ctx context.Context, q querier, kind string, ref int64) (string, error) {
	var cid int64
	var out any
	switch kind {
	case "campaign":
		var r eventRow
		err := q.QueryRowContext(ctx, `SELECT id, campaign_id, event, actor, at, detail FROM campaign_events WHERE id = ?`, ref).
			Scan(&r.ID, &cid, &r.Event, &r.Actor, &r.At, &r.Detail)
		if errors.Is(err, sql.ErrNoRows) {
			return "", errNoRow
		}
		if err != nil {
			return "", fmt.Errorf("store: reading campaign event %d: %w", ref, err)
		}
		if r.Campaign, err = readCampaignRow(ctx, q, cid); err != nil {
			return "", err
		}
		out = r
	case "signoff":
		var r signoffRow
		err := q.QueryRowContext(ctx, `SELECT id, campaign_id, reviewer, signed_at, decided, undecided, overdue, detail FROM campaign_signoffs WHERE id = ?`, ref).
			Scan(&r.ID, &cid, &r.Reviewer, &r.SignedAt, &r.Decided, &r.Undecided, &r.Overdue, &r.Detail)
		if errors.Is(err, sql.ErrNoRows) {
			return "", errNoRow
		}
		if err != nil {
			return "", fmt.Errorf("store: reading sign-off %d: %w", ref, err)
		}
		if r.Campaign, err = readCampaignRow(ctx, q, cid); err != nil {
			return "", err
		}
		out = r
	default:
		return "", fmt.Errorf("store: %s %d: not a campaign entry", kind, ref)
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}

// Campaign returns one campaign, with its sign-off.
func (s *Store) Campaign(ctx context.Context, id int64) (*Campaign, error) {
	cs, err := s.campaigns(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: campaign %d is not in %s", ErrNoCampaign, id, s.path)
	}
	return &cs[0], nil
}

// Campaigns returns every campaign, newest first. As with decisions, only
// what is in the evidence chain counts: a campaign or sign-off written into
// the store around idgraph is not shown (and `idgraph verify` should name
// it).
func (s *Store) Campaigns(ctx context.Context) ([]Campaign, error) { return s.campaigns(ctx, 0) }

func (s *Store) campaigns(ctx context.Context, id int64) ([]Campaign, error) {
	q := `SELECT c.id, c.apps, c.snapshot_id, c.snapshot_hash, c.routing, c.due_at, c.started_by, c.started_at, c.accounts, c.items,
		s.id, s.reviewer, s.signed_at, s.detail
		FROM campaigns c LEFT JOIN campaign_signoffs s ON s.campaign_id = c.id
			AND EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'signoff' AND e.ref = s.id)
		WHERE EXISTS (SELECT 1 FROM campaign_events v JOIN evidence e ON e.kind = 'campaign' AND e.ref = v.id
			WHERE v.campaign_id = c.id AND v.event = 'start')`
	var args []any
	if id != 0 {
		q += ` AND c.id = ?`
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY c.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		var c Campaign
		var apps, routing, due, at string
		var sid sql.NullInt64
		var sby, sat, sdetail sql.NullString
		if err := rows.Scan(&c.ID, &apps, &c.SnapshotID, &c.SnapshotHash, &routing, &due, &c.StartedBy, &at, &c.Accounts, &c.Items,
			&sid, &sby, &sat, &sdetail); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(apps), &c.Apps)
		json.Unmarshal([]byte(routing), &c.Routing)
		c.Due, c.StartedAt = parseTS(due), parseTS(at)
		if sid.Valid {
			so := &Signoff{ID: sid.Int64, By: sby.String, At: parseTS(sat.String)}
			json.Unmarshal([]byte(sdetail.String), so)
			so.ID, so.By, so.At = sid.Int64, sby.String, parseTS(sat.String)
			c.Signoff = so
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CampaignItems returns a campaign's frozen items, in order.
func (s *Store) CampaignItems(ctx context.Context, id int64) ([]CampaignItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, item_key, item_id, app, person_id, email, addresses, reviewer, routed_by, data
		FROM campaign_items WHERE campaign_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading campaign %d's items: %w", id, err)
	}
	defer rows.Close()
	var out []CampaignItem
	for rows.Next() {
		it := CampaignItem{Campaign: id}
		var addrs, data string
		if err := rows.Scan(&it.Seq, &it.Kind, &it.Key, &it.ID, &it.App, &it.Person, &it.Email, &addrs, &it.Reviewer, &it.RoutedBy, &data); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(addrs), &it.Addresses)
		if err := json.Unmarshal([]byte(data), &it.Finding); err != nil {
			return nil, fmt.Errorf("store: campaign %d item %d is corrupt: %w", id, it.Seq, err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// CampaignAccounts returns a campaign's frozen population, in order.
func (s *Store) CampaignAccounts(ctx context.Context, id int64) ([]PopulationAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, app, person_id, person_email, link_reason, item_key, data
		FROM campaign_accounts WHERE campaign_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading campaign %d's population: %w", id, err)
	}
	defer rows.Close()
	var out []PopulationAccount
	for rows.Next() {
		var p PopulationAccount
		var data string
		if err := rows.Scan(&p.Seq, &p.App, &p.Person, &p.PersonEmail, &p.LinkReason, &p.ItemKey, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &p.Account); err != nil {
			return nil, fmt.Errorf("store: campaign %d account %d is corrupt: %w", id, p.Seq, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ItemReview is an item with where its review stands at a moment.
type ItemReview struct {
	CampaignItem
	Decision *Decision `json:"decision,omitempty"` // the item's latest decision in the campaign
	State    string    `json:"state"`              // review.StateDecided, StatePending, StateUndecided
	Overdue  bool      `json:"overdue"`
	// History is every decision about the item's key made in the campaign,
	// oldest first.
	History []Decision `json:"history,omitempty"`
}

// CampaignReview is a campaign's items and progress as of a moment.
type CampaignReview struct {
	Campaign *Campaign
	AsOf     time.Time // the moment shown
	// End is when the campaign's decisions stop counting: its sign-off, or
	// AsOf while it is open (or was, then).
	End         time.Time
	Items       []ItemReview
	Progress    review.Progress
	ByReviewer  map[string]*review.Progress
	Reviewers   []string
	SignedOff   bool // signed off by AsOf
	DecisionsIn int  // decisions about its items made in the campaign by End
}

// ReviewCampaign reads campaign id's items and where each stands as of
// asOf (zero: now): the latest decision about the item's key made in the
// campaign (from its start to its sign-off, and no later than asOf), and
// whether it is overdue then. A campaign signed off after asOf shows as
// it stood at asOf.
func (s *Store) ReviewCampaign(ctx context.Context, id int64, asOf time.Time) (*CampaignReview, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = time.Now()
	}
	asOf = asOf.UTC()
	rv := &CampaignReview{Campaign: c, AsOf: asOf, End: asOf, ByReviewer: map[string]*review.Progress{}}
	if c.Signoff != nil && !c.Signoff.At.After(asOf) {
		rv.End, rv.SignedOff = c.Signoff.At, true
	}
	items, err := s.CampaignItems(ctx, id)
	if err != nil {
		return nil, err
	}
	_, all, err := s.DecisionsAsOf(ctx, rv.End)
	if err != nil {
		return nil, err
	}
	byKey := map[string][]Decision{}
	for i := len(all) - 1; i >= 0; i-- { // all is newest first
		byKey[all[i].FindingKey] = append(byKey[all[i].FindingKey], all[i])
	}
	for _, it := range items {
		ir := ItemReview{CampaignItem: it}
		for _, d := range byKey[it.Key] {
			if !d.DecidedAt.Before(c.StartedAt) {
				ir.History = append(ir.History, d)
			}
		}
		ir.Decision, ir.State = review.CampaignDecision(ir.History, c.StartedAt, rv.End)
		ir.Overdue = review.Overdue(ir.State, c.Due, rv.End)
		rv.DecisionsIn += len(ir.History)
		rv.Progress.Add(ir.State, ir.Overdue)
		p := rv.ByReviewer[it.Reviewer]
		if p == nil {
			p = &review.Progress{}
			rv.ByReviewer[it.Reviewer] = p
			rv.Reviewers = append(rv.Reviewers, it.Reviewer)
		}
		p.Add(ir.State, ir.Overdue)
		rv.Items = append(rv.Items, ir)
	}
	slices.Sort(rv.Reviewers)
	return rv, nil
}

// CheckCampaignOpen refuses a decision about finding key when key is an
// item of a signed-off campaign and of no open one: a signed-off
// campaign's decisions are read-only. Submit and ConfirmFinding should
// call it; the store's triggers refuse such a write in any case.
func (s *Store) CheckCampaignOpen(ctx context.Context, key string) error {
	return checkOpen(ctx, s.db, key)
}

func checkOpen(ctx context.Context, q querier, key string) error {
	var signed, open int
	var last sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT
		COUNT(CASE WHEN s.id IS NOT NULL THEN 1 END), COUNT(CASE WHEN s.id IS NULL THEN 1 END), MAX(CASE WHEN s.id IS NOT NULL THEN i.campaign_id END)
		FROM campaign_items i LEFT JOIN campaign_signoffs s ON s.campaign_id = i.campaign_id WHERE i.item_key = ?`, key).Scan(&signed, &open, &last)
	if err != nil {
		return fmt.Errorf("store: checking the campaigns of %s: %w", key, err)
	}
	if signed > 0 && open == 0 {
		return &refused{fmt.Sprintf("%s is an item of campaign %d, which is signed off: its population and decisions are read-only; "+
			"start a new campaign to review it again", key, last.Int64)}
	}
	return nil
}

// DecideItem records a decision about an item of an open campaign (its
// key or ID) by the review rules, the same as Submit: the item's frozen
// finding is what the rules judge, so that an item is decided as it was
// frozen even when a later snapshot no longer has its finding. A refusal
// wraps review.ErrRefused.
func (s *Store) DecideItem(ctx context.Context, rv Reviewing, id int64, item string, req review.Request) (*Decision, *CampaignItem, error) {
	it, err := s.openItem(ctx, id, item, req.Reviewer)
	if err != nil {
		return nil, it, err
	}
	d, err := review.Check(rv.Policy, &it.Finding, req)
	if err != nil {
		return nil, it, err
	}
	latest, err := s.Get(ctx, 0)
	if err != nil {
		return nil, it, err
	}
	d.SnapshotID = latest.ID
	if err := s.Record(ctx, d, rv.LogFile); err != nil {
		return nil, it, err
	}
	return d, it, nil
}

// openItem returns an item of campaign id that reviewer may decide about:
// the campaign is open, and the item is not the reviewer's own access.
// The item comes back with the refusal when it was found.
func (s *Store) openItem(ctx context.Context, id int64, item, reviewer string) (*CampaignItem, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	it, err := s.campaignItem(ctx, id, item)
	if err != nil {
		return nil, err
	}
	if !c.Open() {
		return it, &refused{fmt.Sprintf("campaign %d was signed off by %s on %s: its population and decisions are read-only",
			id, c.Signoff.By, c.Signoff.At.UTC().Format(time.RFC3339))}
	}
	for _, a := range it.Addresses {
		if a != "" && review.Fold(a) == review.Fold(reviewer) {
			return it, review.ErrSelfReview
		}
	}
	return it, nil
}

// ConfirmItem records reviewer as the second reviewer of the newest
// decision about an item of an open campaign that waits for one, by the
// rules of ConfirmFinding, judging the item as the campaign froze it.
func (s *Store) ConfirmItem(ctx context.Context, rv Reviewing, id int64, item, reviewer string, now time.Time) (*Decision, *CampaignItem, error) {
	it, err := s.openItem(ctx, id, item, reviewer)
	if err != nil {
		return nil, it, err
	}
	h, err := s.History(ctx, it.Key)
	if err != nil {
		return nil, it, err
	}
	var pending *Decision
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Pending() {
			pending = &h[i]
			break
		}
	}
	who, err := review.CheckConfirm(&it.Finding, pending, reviewer)
	if err != nil {
		return nil, it, err
	}
	if err := s.Confirm(ctx, pending.ID, who, now.UTC(), rv.LogFile); err != nil {
		return nil, it, err
	}
	pending.ConfirmedBy, pending.ConfirmedAt = who, now.UTC()
	return pending, it, nil
}

// CampaignItem returns one item of a campaign by its key or ID.
func (s *Store) CampaignItem(ctx context.Context, id int64, item string) (*CampaignItem, error) {
	return s.campaignItem(ctx, id, item)
}

func (s *Store) campaignItem(ctx context.Context, id int64, item string) (*CampaignItem, error) {
	items, err := s.CampaignItems(ctx, id)
	if err != nil {
		return nil, err
	}
	item = strings.TrimSpace(item)
	for i := range items {
		if items[i].Key == item || items[i].ID == item {
			return &items[i], nil
		}
	}
	return nil, fmt.Errorf("%w: campaign %d has no item %q", ErrNoFinding, id, item)
}

// SignOff ends campaign id: it records, as an entry of the evidence chain,
// who signed off and when, the counts decided, undecided and overdue, and
// each revoke's (and modify's) remediation state. From then on the
// campaign's population and decisions are read-only.
func (s *Store) SignOff(ctx context.Context, id int64, by string, now time.Time, logFile string) (*Signoff, error) {
	by = review.Fold(by)
	if by == "" || by == "token" {
		return nil, &refused{"a sign-off needs a named reviewer (an email address)"}
	}
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Open() {
		return nil, &refused{fmt.Sprintf("campaign %d was signed off already, by %s on %s", id, c.Signoff.By, c.Signoff.At.UTC().Format(time.RFC3339))}
	}
	now = now.UTC()
	rv, err := s.ReviewCampaign(ctx, id, now)
	if err != nil {
		return nil, err
	}
	so := &Signoff{By: by, At: now, Progress: rv.Progress, Revokes: []RevokeState{}}
	for _, it := range rv.Items {
		d := it.Decision
		if it.State != review.StateDecided || d == nil || (d.Kind() != review.Revoke && d.Kind() != review.Modify) {
			continue
		}
		state, err := RemediationState(ctx, s.db, d.ID)
		if err != nil {
			return nil, err
		}
		so.Revokes = append(so.Revokes, RevokeState{Item: it.ID, Key: it.Key, DecisionID: d.ID, Decision: d.Decision, Role: d.Role, Remediation: state})
	}
	detail, _ := json.Marshal(struct {
		Progress review.Progress `json:"progress"`
		Revokes  []RevokeState   `json:"revokes"`
	}{so.Progress, so.Revokes})
	e, err := s.appendEntry(ctx, "signoff", ts(now), func(tx *sql.Tx) (int64, string, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO campaign_signoffs (campaign_id, reviewer, signed_at, decided, undecided, overdue, detail) VALUES (?,?,?,?,?,?,?)`,
			id, by, ts(now), so.Progress.Decided, so.Progress.Undecided+so.Progress.Pending, so.Progress.Overdue, string(detail))
		if err != nil {
			return 0, "", fmt.Errorf("store: recording the sign-off of campaign %d: %w", id, err)
		}
		sid, err := res.LastInsertId()
		if err != nil {
			return 0, "", err
		}
		body, err := campaignBody(ctx, tx, "signoff", sid)
		return sid, body, err
	})
	if err != nil {
		return nil, err
	}
	so.ID = e.Ref
	return so, s.logEntry(ctx, logFile, e)
}

// RemediationState says where the remediation of decision id stands:
// "not planned" until an action carried it out (also while the store has no
// remediation records at all), then the newest action's outcome, and
// "confirmed in snapshot N" once a later read proved it.
func RemediationState(ctx context.Context, q querier, decision int64) (string, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('remediation')
		WHERE name IN ('record', 'action_id', 'decision_id', 'outcome', 'state', 'snapshot_id')`).Scan(&n); err != nil {
		return "", fmt.Errorf("store: reading remediation state: %w", err)
	}
	if n < 6 {
		return "not planned", nil
	}
	var action int64
	var outcome string
	err := q.QueryRowContext(ctx, `SELECT id, outcome FROM remediation WHERE record = 'action' AND decision_id = ? ORDER BY id DESC LIMIT 1`, decision).Scan(&action, &outcome)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "not planned", nil
	case err != nil:
		return "", fmt.Errorf("store: reading the remediation of decision %d: %w", decision, err)
	}
	var state string
	var snap int64
	err = q.QueryRowContext(ctx, `SELECT state, snapshot_id FROM remediation WHERE record = 'proof' AND action_id = ? ORDER BY id DESC LIMIT 1`, action).Scan(&state, &snap)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if outcome == "done" || outcome == "already_done" {
			return outcome + ", waiting for the next read to confirm it", nil
		}
		return outcome, nil
	case err != nil:
		return "", fmt.Errorf("store: reading the proof of remediation action %d: %w", action, err)
	case state == "confirmed":
		return fmt.Sprintf("confirmed in snapshot %d", snap), nil
	}
	return fmt.Sprintf("%s, %s in snapshot %d", outcome, state, snap), nil
}

// RemediationRecord is a remediation action with its newest proof, as an
// evidence pack lists it.
type RemediationRecord struct {
	ID            int64
	DecisionID    int64
	FindingKey    string
	App           string
	AccountKey    string
	Op            string
	Role          string
	DecidedBy     string
	ConfirmedBy   string
	AppliedBy     string
	StartedAt     string
	EndedAt       string
	Outcome       string
	Detail        string
	ProofState    string
	ProofSnapshot int64
	ProofAt       string
}

// CampaignRemediations returns the remediation actions about keys recorded
// by asOf, oldest first, each with its newest proof by then; none while
// the store has no remediation records.
func (s *Store) CampaignRemediations(ctx context.Context, keys []string, asOf time.Time) ([]RemediationRecord, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('remediation')`).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, record, action_id, decision_id, finding_key, app, account_key, op, role, decided_by, confirmed_by, applied_by,
		started_at, ended_at, outcome, detail, state, snapshot_id, recorded_at FROM remediation r
		WHERE EXISTS (SELECT 1 FROM evidence e WHERE e.kind = 'action' AND e.ref = r.id) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: reading remediation records: %w", err)
	}
	defer rows.Close()
	var out []RemediationRecord
	idx := map[int64]int{}
	for rows.Next() {
		var r RemediationRecord
		var record, state, at string
		var action, snap int64
		if err := rows.Scan(&r.ID, &record, &action, &r.DecisionID, &r.FindingKey, &r.App, &r.AccountKey, &r.Op, &r.Role, &r.DecidedBy, &r.ConfirmedBy,
			&r.AppliedBy, &r.StartedAt, &r.EndedAt, &r.Outcome, &r.Detail, &state, &snap, &at); err != nil {
			return nil, err
		}
		if !asOf.IsZero() && parseTS(at).After(asOf) {
			continue
		}
		switch record {
		case "action":
			if want[r.FindingKey] {
				idx[r.ID] = len(out)
				out = append(out, r)
			}
		case "proof":
			if i, ok := idx[action]; ok {
				out[i].ProofState, out[i].ProofSnapshot, out[i].ProofAt = state, snap, at
			}
		}
	}
	return out, rows.Err()
}
