package report

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
)

// Application is what the reports show of one application: its short
// name, its title and its role ladder, as its app sources declared them.
// Nothing here names an application: every title comes from the data.
type Application struct {
	Name  string
	Title string   // as people write it; the name, capitalised, when no source said
	Roles []string // the role ladder, lowest to highest privilege
}

// Apps returns the applications that a snapshot's app sources read,
// ordered by title. A source's declared title and ladder win; a snapshot
// written before applications had titles (format 1) gets the capitalised
// name and the ladder the store gives it.
func Apps(sources []store.Source) []Application {
	var out []Application
	for _, s := range sources {
		if s.Info.Kind != collectors.KindApp || s.Info.App == "" {
			continue
		}
		i := slices.IndexFunc(out, func(a Application) bool { return a.Name == s.Info.App })
		if i < 0 {
			out = append(out, Application{Name: s.Info.App})
			i = len(out) - 1
		}
		if out[i].Title == "" {
			out[i].Title = strings.TrimSpace(s.Info.Title)
		}
		if len(out[i].Roles) == 0 {
			out[i].Roles = slices.Clone(s.Info.Roles)
		}
	}
	for i := range out {
		if out[i].Title == "" {
			out[i].Title = Title(out[i].Name)
		}
	}
	slices.SortFunc(out, func(a, b Application) int { return cmp.Or(cmp.Compare(a.Title, b.Title), cmp.Compare(a.Name, b.Name)) })
	return out
}

// TitleIn returns the title of application name among apps, or the name
// capitalised when apps do not hold it; "" for no name.
func TitleIn(apps []Application, name string) string {
	for _, a := range apps {
		if a.Name == name {
			return a.Title
		}
	}
	return Title(name)
}

// FindApp returns the application that v names, by short name or by title
// (either without regard to case), and whether one does.
func FindApp(apps []Application, v string) (Application, bool) {
	v = strings.TrimSpace(v)
	for _, a := range apps {
		if strings.EqualFold(a.Name, v) || strings.EqualFold(a.Title, v) {
			return a, true
		}
	}
	return Application{}, false
}

// AppNames lists the short names of apps, in their order.
func AppNames(apps []Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.Name
	}
	return out
}

// Title capitalises an application's short name, as the findings do
// ("notion" -> "Notion"): the fallback when no source gave a title.
func Title(app string) string {
	r, n := utf8.DecodeRuneInString(app)
	if n == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + app[n:]
}

// AppTitle names the applications that the app sources read ("Notion",
// "Miro and Notion"); "the application" when none says.
func AppTitle(sources []store.Source) string {
	apps := Apps(sources)
	if len(apps) == 0 {
		return "the application"
	}
	titles := make([]string, len(apps))
	for i, a := range apps {
		titles[i] = a.Title
	}
	slices.Sort(titles)
	return List(slices.Compact(titles))
}

// Apps lists the snapshot's applications, ordered by title.
func (d *Data) Apps() []Application { return Apps(d.Snapshot.Sources) }

// App names the snapshot's applications.
func (d *Data) App() string { return AppTitle(d.Snapshot.Sources) }

// TitleOf returns the title of application name in the snapshot.
func (d *Data) TitleOf(name string) string { return TitleIn(d.Apps(), name) }

// AppOf returns the application an account belongs to: its source's, for
// an app account; "" for an IdP account.
func (d *Data) AppOf(a *collectors.Account) string {
	for _, s := range d.Snapshot.Sources {
		if s.Info.Name == a.Source {
			return s.Info.App
		}
	}
	return ""
}

// AppFindings is one application's share of a list of findings.
type AppFindings struct {
	Application
	Findings []diff.Finding
}

// ByApp splits findings by application, in the order of apps, keeping
// each list's order. A finding of an application that apps lack (none
// should be) gets a group of its own at the end, so nothing is dropped.
func ByApp(apps []Application, fs []diff.Finding) []AppFindings {
	out := make([]AppFindings, len(apps))
	for i, a := range apps {
		out[i].Application = a
	}
	for _, f := range fs {
		i := slices.IndexFunc(out, func(g AppFindings) bool { return g.Name == f.App })
		if i < 0 {
			out = append(out, AppFindings{Application: Application{Name: f.App, Title: Title(f.App)}})
			i = len(out) - 1
		}
		out[i].Findings = append(out[i].Findings, f)
	}
	return out
}

// ExpectedIn returns the role the IdPs imply for person p in application
// app, and why. In a snapshot of one application (single) it is the
// person's one expected role, as it always was; with several, only the
// expectation of that application counts, so that an account is never
// judged against another application's role.
func ExpectedIn(p store.Person, app string, single bool) (role, why string) {
	if single {
		return p.ExpectedRole, p.ExpectedWhy
	}
	return p.ExpectedIn(app)
}
