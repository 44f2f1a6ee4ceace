package oktatest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Generate builds an org of n users of whom assigned (at most n) can use
// the app: 1% of them through "Stonly Admins" (role Admin, priority 1),
// half through "Stonly Users" (priority 2), the rest directly. Statuses
// follow a realistic mix: mostly ACTIVE, 2% DEPROVISIONED, 2% SUSPENDED,
// 1% STAGED, 1% each PASSWORD_EXPIRED and LOCKED_OUT. The same seed gives
// the same org. Every user but the first has a manager (user i/10): the
// profile's managerId holds the manager's id, or for one user in 50 the
// manager's login (as an HR import may write it), and manager the
// manager's display name.
func Generate(n, assigned int, seed uint64) *Scenario {
	rng := rand.New(rand.NewPCG(seed, 42))
	sc := &Scenario{Token: "sim-token", AppID: "0oa1stonly00000000", AppLabel: "Stonly"}
	admins := Group{ID: "00g1stonlyadmins0000", Name: "Stonly Admins"}
	users := Group{ID: "00g2stonlyusers00000", Name: "Stonly Users"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sc.Users = make([]User, n)
	for i := 0; i < n; i++ {
		st := "ACTIVE"
		switch r := rng.IntN(100); {
		case r < 2:
			st = "DEPROVISIONED"
		case r < 4:
			st = "SUSPENDED"
		case r < 5:
			st = "STAGED"
		case r < 6:
			st = "PASSWORD_EXPIRED"
		case r < 7:
			st = "LOCKED_OUT"
		}
		login := fmt.Sprintf("user%07d@acme.com", i)
		u := User{ID: UserID(i), Status: st, Login: login, Email: login, FirstName: "User", LastName: fmt.Sprint(i),
			EmployeeNumber: fmt.Sprintf("E%07d", i), Created: base, LastUpdated: base.Add(time.Duration(i) * time.Second),
			StatusChanged: base.Add(24 * time.Hour), LastLogin: base.Add(48 * time.Hour)}
		if i%50 == 0 {
			u.SecondEmail = fmt.Sprintf("user%07d@acquisicorp.net", i)
		}
		if i > 0 {
			m := i / 10
			u.ManagerID, u.Manager = UserID(m), fmt.Sprintf("User %d", m)
			if i%50 == 25 {
				u.ManagerID = fmt.Sprintf("user%07d@acme.com", m)
			}
		}
		sc.Users[i] = u
		if i < assigned {
			switch {
			case i%100 == 0:
				admins.Members = append(admins.Members, u.ID)
			case i%2 == 0:
				users.Members = append(users.Members, u.ID)
			default:
				sc.Direct = append(sc.Direct, DirectAssignment{UserID: u.ID, Role: "Member"})
			}
		}
	}
	sc.Groups = []Group{admins, users}
	sc.GroupAssignments = []GroupAssignment{{GroupID: admins.ID, Priority: 1, Role: "Admin"}, {GroupID: users.ID, Priority: 2, Role: "Member"}}
	return sc
}

// UserID is the ID Generate gives user i; IDs sort in index order.
func UserID(i int) string { return fmt.Sprintf("00u%017d", i) }
