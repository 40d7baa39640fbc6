package features

import (
	"bytes"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The derived features a ColumnSpec can ask for in its Derive field.
const (
	// DeriveEmailDomain turns an e-mail address into its domain class (EmailDomainClass).
	DeriveEmailDomain = "email_domain"
	// DeriveTitleSeniority turns a free-text job title into a seniority level (TitleSeniority).
	DeriveTitleSeniority = "title_seniority"
	// DeriveRecency turns a timestamp into log1p(days before the reference time), clamped at 0 days.
	DeriveRecency = "recency"
)

// The classes EmailDomainClass returns.
const (
	EmailFreeMail  = "free-mail" // a consumer mailbox: gmail.com, yahoo.co.uk, gmx.de, ...
	EmailEducation = "education" // a school or university: *.edu, *.edu.xx, *.ac.xx
	EmailCompany   = "company"   // any other well-formed domain
	EmailInvalid   = "invalid"   // no "@", or no dotted domain after it
)

// The levels TitleSeniority returns.
const (
	SeniorityExecutive  = "executive"  // chief/C-level, VP, president, founder, owner, partner, head of
	SeniorityDirector   = "director"   // director, general manager
	SeniorityManager    = "manager"    // manager, supervisor, lead
	SeniorityIndividual = "individual" // any other recognisable title
	SeniorityStudent    = "student"    // student, intern, trainee, apprentice
	SeniorityUnknown    = "unknown"    // empty or placeholder ("n/a", "-", "unknown", digits only)
)

// freeMailDomains are consumer mailbox domains matched exactly (lower case).
var freeMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "ymail.com": true, "rocketmail.com": true,
	"msn.com": true, "aol.com": true, "aim.com": true, "icloud.com": true, "me.com": true, "mac.com": true,
	"web.de": true, "freenet.de": true, "t-online.de": true, "proton.me": true, "protonmail.com": true,
	"protonmail.ch": true, "pm.me": true, "mail.ru": true, "inbox.ru": true, "list.ru": true, "bk.ru": true,
	"ya.ru": true, "rambler.ru": true, "qq.com": true, "163.com": true, "126.com": true, "sina.com": true,
	"naver.com": true, "daum.net": true, "hanmail.net": true, "libero.it": true, "virgilio.it": true,
	"orange.fr": true, "wanadoo.fr": true, "free.fr": true, "laposte.net": true, "sfr.fr": true,
	"seznam.cz": true, "wp.pl": true, "o2.pl": true, "interia.pl": true, "onet.pl": true,
	"rediffmail.com": true, "tutanota.com": true, "tuta.io": true, "fastmail.com": true, "hey.com": true,
	"mail.com": true, "email.com": true, "inbox.com": true, "zoho.com": true, "zohomail.com": true,
	"comcast.net": true, "verizon.net": true, "att.net": true, "sbcglobal.net": true, "bellsouth.net": true,
	"cox.net": true, "charter.net": true, "earthlink.net": true, "btinternet.com": true, "sky.com": true,
	"virginmedia.com": true, "ntlworld.com": true, "shaw.ca": true, "rogers.com": true, "sympatico.ca": true,
	"bigpond.com": true, "optusnet.com.au": true, "uol.com.br": true, "bol.com.br": true,
	"terra.com.br": true, "gmx.net": true, "yandex.com": true,
}

// freeMailBrands are consumer mailbox providers with a domain per country: "yahoo" matches yahoo.com,
// yahoo.fr and yahoo.co.uk, but not yahoo.example.com (see isFreeMail).
var freeMailBrands = map[string]bool{
	"gmail": true, "googlemail": true, "yahoo": true, "ymail": true, "hotmail": true, "outlook": true,
	"live": true, "msn": true, "aol": true, "icloud": true, "gmx": true, "yandex": true, "proton": true,
	"protonmail": true, "mail": true, "zoho": true,
}

// EmailDomainClass classifies an e-mail address by its domain: EmailFreeMail, EmailEducation,
// EmailCompany or EmailInvalid. Case and surrounding spaces are ignored. It does not allocate for
// domains of up to 64 bytes.
func EmailDomainClass(addr string) string {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return EmailInvalid
	}
	domain := strings.TrimSuffix(strings.TrimSpace(addr[at+1:]), ".")
	dot := strings.IndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.Contains(domain, "..") {
		return EmailInvalid
	}
	var buf [64]byte
	lower := buf[:0]
	if len(domain) <= len(buf) {
		lower = appendLower(lower, domain)
	} else {
		lower = []byte(strings.ToLower(domain))
	}
	if isFreeMail(lower) {
		return EmailFreeMail
	}
	if isEducation(lower) {
		return EmailEducation
	}
	return EmailCompany
}

// isFreeMail reports whether the lower-case domain d is a consumer mailbox: listed exactly, or a
// listed brand followed only by a country suffix of at most two labels of at most three letters
// ("yahoo.co.uk", "gmx.de").
func isFreeMail(d []byte) bool {
	if freeMailDomains[string(d)] {
		return true
	}
	dot := bytes.IndexByte(d, '.')
	if !freeMailBrands[string(d[:dot])] {
		return false
	}
	labels, n := 0, 0
	for _, c := range d[dot+1:] {
		if c == '.' {
			if n == 0 || n > 3 {
				return false
			}
			labels, n = labels+1, 0
			continue
		}
		n++
	}
	return n > 0 && n <= 3 && labels < 2
}

// isEducation reports whether the lower-case domain d belongs to a school or university.
func isEducation(d []byte) bool {
	return bytes.HasSuffix(d, []byte(".edu")) || bytes.Contains(d, []byte(".edu.")) ||
		bytes.Contains(d, []byte(".ac."))
}

// appendLower appends the lower-case form of s to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// titleWord is the role a word plays in a job title.
type titleWord uint8

const (
	twOther       titleWord = iota
	twPlaceholder           // n/a, none, unknown, tbd, ...
	twStudent               // student, intern, trainee, apprentice
	twExecutive             // chief, ceo, vp, president, founder, geschäftsführer, ...
	twOwner                 // owner: executive unless "product owner"
	twPartner               // partner: executive only as the last word ("managing partner")
	twHead                  // head: executive in "head of ..." or as the last word
	twOf
	twManaging
	twDirector
	twGeneral
	twManager
	twLead
	twGeneration // "lead generation" is not a lead
	twProduct
	twAssistant
	twTo // "assistant to the ceo" is not an executive
)

var titleWords = map[string]titleWord{
	"n": twPlaceholder, "a": twPlaceholder, "na": twPlaceholder, "none": twPlaceholder,
	"unknown": twPlaceholder, "other": twPlaceholder, "null": twPlaceholder, "nil": twPlaceholder,
	"tbd": twPlaceholder, "x": twPlaceholder, "xx": twPlaceholder, "xxx": twPlaceholder,
	"test": twPlaceholder, "unspecified": twPlaceholder, "not": twPlaceholder, "applicable": twPlaceholder,

	"student": twStudent, "students": twStudent, "intern": twStudent, "internship": twStudent,
	"trainee": twStudent, "apprentice": twStudent, "werkstudent": twStudent, "werkstudentin": twStudent,
	"praktikant": twStudent, "praktikantin": twStudent, "stagiaire": twStudent, "estudiante": twStudent,
	"étudiant": twStudent, "étudiante": twStudent, "etudiant": twStudent, "undergraduate": twStudent,
	"azubi": twStudent, "pupil": twStudent,

	"chief": twExecutive, "ceo": twExecutive, "cfo": twExecutive, "cmo": twExecutive, "cto": twExecutive,
	"coo": twExecutive, "cio": twExecutive, "cro": twExecutive, "cso": twExecutive, "cpo": twExecutive,
	"cco": twExecutive, "cdo": twExecutive, "cao": twExecutive, "cxo": twExecutive, "ciso": twExecutive,
	"chro": twExecutive, "vp": twExecutive, "svp": twExecutive, "evp": twExecutive, "avp": twExecutive,
	"vicepresident": twExecutive, "president": twExecutive, "founder": twExecutive,
	"cofounder": twExecutive, "gründer": twExecutive, "gruender": twExecutive, "fundador": twExecutive,
	"fondateur": twExecutive, "chairman": twExecutive, "chairwoman": twExecutive,
	"chairperson": twExecutive, "geschäftsführer": twExecutive, "geschäftsführerin": twExecutive,
	"geschaeftsfuehrer": twExecutive, "inhaber": twExecutive, "inhaberin": twExecutive,
	"proprietor": twExecutive,

	"owner": twOwner, "partner": twPartner, "head": twHead, "of": twOf, "managing": twManaging,
	"director": twDirector, "directeur": twDirector, "directrice": twDirector, "directora": twDirector,
	"direktor": twDirector, "dir": twDirector, "general": twGeneral,
	"manager": twManager, "mgr": twManager, "supervisor": twManager, "gerente": twManager,
	"leiter": twManager, "leiterin": twManager, "teamleiter": twManager, "jefe": twManager,
	"foreman": twManager, "superintendent": twManager,
	"lead": twLead, "leader": twLead, "teamlead": twLead, "techlead": twLead,
	"generation": twGeneration, "gen": twGeneration,
	"product": twProduct, "assistant": twAssistant, "to": twTo,
}

// maxTitleWords bounds the words TitleSeniority looks at; longer titles are cut.
const maxTitleWords = 16

// TitleSeniority reads a seniority level from a free-text job title: SeniorityStudent,
// SeniorityExecutive, SeniorityDirector, SeniorityManager, SeniorityIndividual or SeniorityUnknown.
// The rules, first match wins: no words or only placeholders -> unknown; student/intern/trainee ->
// student; "assistant to ..." -> individual; chief, C-level abbreviations (ceo, cfo, ...), vp,
// (vice) president, founder, owner (not "product owner"), partner as the last word, "head of" or head
// as the last word, "managing director/partner" -> executive; director, "general manager" -> director;
// manager, supervisor, lead (not "lead generation") -> manager; anything else -> individual. A few
// German, French and Spanish words are known. It does not allocate.
func TitleSeniority(title string) string {
	var words [maxTitleWords]titleWord
	n, placeholders := 0, 0
	var buf [32]byte
	for i := 0; i < len(title) && n < maxTitleWords; {
		r, size := utf8.DecodeRuneInString(title[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += size
			continue
		}
		j, letters := i, false
		for j < len(title) {
			r, size := utf8.DecodeRuneInString(title[j:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			letters = letters || unicode.IsLetter(r)
			j += size
		}
		w := twOther
		switch {
		case !letters:
			w = twPlaceholder
		case j-i <= len(buf)-utf8.UTFMax:
			w = titleWords[string(appendLower(buf[:0], title[i:j]))]
		}
		if w == twPlaceholder {
			placeholders++
		}
		words[n] = w
		n++
		i = j
	}
	if n == placeholders {
		return SeniorityUnknown
	}
	ws := words[:n]
	for _, w := range ws {
		if w == twStudent {
			return SeniorityStudent
		}
	}
	for k, w := range ws {
		if w == twAssistant && k+1 < n && ws[k+1] == twTo {
			return SeniorityIndividual
		}
	}
	for k, w := range ws {
		last := k == n-1
		switch {
		case w == twExecutive:
			return SeniorityExecutive
		case w == twOwner && (k == 0 || ws[k-1] != twProduct):
			return SeniorityExecutive
		case w == twPartner && last:
			return SeniorityExecutive
		case w == twHead && (last || ws[k+1] == twOf):
			return SeniorityExecutive
		case w == twManaging && !last && (ws[k+1] == twDirector || ws[k+1] == twPartner):
			return SeniorityExecutive
		}
	}
	for k, w := range ws {
		if w == twDirector || (w == twGeneral && k+1 < n && ws[k+1] == twManager) {
			return SeniorityDirector
		}
	}
	for k, w := range ws {
		if w == twManager || (w == twLead && (k+1 == n || ws[k+1] != twGeneration)) {
			return SeniorityManager
		}
	}
	return SeniorityIndividual
}

// recencyDays is the transformed recency of a timestamp: log1p of the days from t to asOf, both in
// Unix seconds, clamped at 0 days (a timestamp after asOf counts as now). Every encoding path calls
// it, which keeps EncodeFrame bit-identical to EncodeContact.
func recencyDays(asOf, t float64) float64 {
	d := (asOf - t) / 86400
	if !(d > 0) {
		d = 0
	}
	return math.Log1p(d)
}
