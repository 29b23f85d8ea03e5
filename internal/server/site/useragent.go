package site

import "strings"

// What the sessions list says for a User-Agent: "Firefox on Linux",
// "Safari on iPhone", "curl". It reads the tokens the common browsers and
// systems send, most specific first (Edge and Opera say "Chrome" too;
// Chrome says "Safari"); a browser it does not know is "Unknown browser",
// with the system if that is known. It never shows the raw string, which
// is the client's to choose.

// maxUserAgent is the longest User-Agent read; sessions keep 256 bytes.
const maxUserAgent = 512

// browserTokens are the products a User-Agent names, in the order they
// are tried: the first found names the browser.
var browserTokens = []struct{ token, name string }{
	{"EdgiOS/", "Edge"},
	{"EdgA/", "Edge"},
	{"Edg/", "Edge"},
	{"Edge/", "Edge"},
	{"OPR/", "Opera"},
	{"OPiOS/", "Opera"},
	{"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"DuckDuckGo/", "DuckDuckGo"},
	{"FxiOS/", "Firefox"},
	{"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"Chromium/", "Chromium"},
	{"Chrome/", "Chrome"},
	{"Trident/", "Internet Explorer"},
	{"MSIE ", "Internet Explorer"},
	{"curl/", "curl"},
	{"Wget/", "Wget"},
	{"python-requests/", "Python requests"},
	{"python-httpx/", "Python httpx"},
	{"Python-urllib/", "Python urllib"},
	{"aiohttp/", "Python aiohttp"},
	{"Go-http-client/", "Go program"},
	{"okhttp/", "OkHttp"},
	{"PostmanRuntime/", "Postman"},
	{"HTTPie/", "HTTPie"},
}

// systemTokens are the systems a User-Agent names, tried in order.
var systemTokens = []struct{ token, name string }{
	{"iPhone", "iPhone"},
	{"iPad", "iPad"},
	{"iPod", "iPod"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows Phone", "Windows Phone"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"},
	{"Mac OS X", "macOS"},
	{"FreeBSD", "FreeBSD"},
	{"OpenBSD", "OpenBSD"},
	{"NetBSD", "NetBSD"},
	{"Linux", "Linux"},
	{"X11", "Linux"},
}

// describeUserAgent says in a few words which browser on which system
// sent ua.
func describeUserAgent(ua string) string {
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	browser, system := "", ""
	for _, b := range browserTokens {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "" && strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/") {
		browser = "Safari"
	}
	if browser == "" && strings.Contains(ua, "Mobile/") && (strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad")) {
		browser = "Safari" // an app's web view, or Safari without its Version/
	}
	for _, s := range systemTokens {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser == "" && system == "":
		return "Unknown browser"
	case browser == "":
		return "Unknown browser on " + system
	case system == "":
		return browser
	}
	return browser + " on " + system
}
