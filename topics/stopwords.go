package topics

import "strings"

// stopWords are folded English words that say nothing about a story:
// function words, plus the boilerplate of headlines and feed URLs ("says",
// "video", "html") and the labels of opinion pieces ("Opinion:",
// "[Editorial]"), which would tie unrelated editorials together. They are dropped before stemming; an acronym written in
// capitals ("US", "IT", "WHO") is kept even when its letters spell one.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a about above across after afterwards again against ago all almost along already also although always am among amid an and another any anyone anything are aren around as at
b be became because become been before being below beside besides between beyond both but by
c can cannot could couldn
d did didn do does doesn doing don done down during
e each either else enough etc even ever every
f few for from further
g get gets getting got
h had has hasn have haven having he her here hers herself him himself his how however
i if in inside into is isn it its itself
j just
k
l less let lets like likely
m many may me might more most much must my myself
n near neither never no nor not now
o of off often on once one only onto or other others our ours ourselves out over own
p per perhaps
q
r rather
s same several shall she should since so some still such
t than that the their theirs them themselves then there these they this those though through thus to too toward towards
u under unless until up upon us
v very via
w was wasn we were what whatever when where whether which while who whom whose why will with within without won would wouldn
x y yet you your yours yourself yourselves
z
dont cant wont isnt arent doesnt didnt im ive youre theyre thats whats heres theres
says said say saying tells told
new news report reports reported reportedly update updated updates latest breaking exclusive
video videos photo photos pictures watch live
opinion editorial editorials op ed column columns commentary analysis
html htm shtml php aspx asp jsp ece cms www http https com org net co uk index story stories article articles
`) {
		m[w] = true
	}
	return m
}()

// acronymStops are stop words that name something when written in
// capitals: "US", "IT", "WHO".
var acronymStops = map[string]bool{"us": true, "it": true, "who": true}

// nameLeads are stop words that begin names when capitalized ("New York",
// "New Zealand"): there they join the name that follows, so that the two
// names differ, and they are dropped otherwise.
var nameLeads = map[string]bool{"new": true}
