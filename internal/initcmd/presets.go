package initcmd

import "github.com/apilayer/apilayer/config"

// Preset is what apilayer init writes for one backend framework: the
// backend endpoints, the JSON Pointers into the framework's usual answers
// (backend.mapping) and its method spoofing.
type Preset struct {
	Key  string // the answer that selects it: laravel, rails, django, dotnet, express, go, other
	Name string // as the menu shows it
	// Spoofing is the api.methodSpoofing strategy ("body" or "header");
	// empty leaves method spoofing off.
	Spoofing string
	// Endpoints and Mapping are written in full into the file; a zero field
	// takes the gateway's default.
	Endpoints config.Endpoints
	Mapping   config.Mapping
	// Shape is a comment written above backend.mapping: the answers the
	// mapping expects.
	Shape []string
}

// defaultMapping is next-api-layer's response shape, the gateway's default.
var defaultMapping = config.Mapping{
	Success: "/success", User: "/data", TokenType: "/data/type", ExpiresAt: "/data/exp",
	AccessToken: "/data/accessToken", RefreshToken: "/data/refreshToken", ErrorCode: "/code",
}

var defaultEndpoints = config.Endpoints{
	Validate: "auth/me", Refresh: "auth/refresh", Guest: "auth/guest",
	Login: "auth/login", Register: "auth/register", Logout: "auth/logout",
}

var defaultShape = []string{
	`validate/login: {"success": true, "data": {"id": 1, "type": "user", "exp": 1767225600, ...}}`,
	`refresh/guest:  {"success": true, "data": {"accessToken": "...", "refreshToken": "..."}}`,
	`failure:        {"success": false, "code": "token_reuse"}`,
}

// Presets are the backend frameworks in the order of the menu (the seed's
// order). The last one, "other", is the default.
var Presets = []Preset{
	{
		Key: "laravel", Name: "Laravel (PHP)", Spoofing: "body",
		Endpoints: defaultEndpoints,
		Mapping: config.Mapping{
			Success: "/success", User: "/data", TokenType: "/data/type", ExpiresAt: "/data/exp",
			AccessToken: "/access_token", RefreshToken: "/refresh_token", ErrorCode: "/error",
		},
		Shape: []string{
			`validate: an API Resource, {"data": {"id": 1, "type": "user", "exp": 1767225600, ...}}`,
			`tokens:   jwt-auth's respondWithToken, {"access_token": "...", "refresh_token": "...", "expires_in": 3600}`,
			`failure:  {"error": "token_reuse"}`,
		},
	},
	{
		Key: "rails", Name: "Ruby on Rails", Spoofing: "header",
		Endpoints: defaultEndpoints,
		Mapping: config.Mapping{
			Success: "/success", User: "/user", TokenType: "/user/type", ExpiresAt: "/exp",
			AccessToken: "/token", RefreshToken: "/refresh_token", ErrorCode: "/error",
		},
		Shape: []string{
			`validate: {"user": {"id": 1, "type": "user", ...}, "exp": 1767225600}`,
			`tokens:   {"token": "...", "refresh_token": "..."}`,
			`failure:  {"error": "token_reuse"}`,
		},
	},
	{
		Key: "django", Name: "Django (Python)",
		Endpoints: config.Endpoints{
			Validate: "auth/me/", Refresh: "auth/refresh/", Guest: "auth/guest/",
			Login: "auth/login/", Register: "auth/register/", Logout: "auth/logout/",
		},
		Mapping: config.Mapping{
			Success: "/success", User: "/user", TokenType: "/user/type", ExpiresAt: "/exp",
			AccessToken: "/access", RefreshToken: "/refresh", ErrorCode: "/code",
		},
		Shape: []string{
			`validate: {"user": {"id": 1, "type": "user", ...}, "exp": 1767225600}`,
			`tokens:   Simple JWT's {"access": "...", "refresh": "..."}`,
			`failure:  Simple JWT's {"detail": "...", "code": "token_not_valid"}`,
		},
	},
	{
		Key: "dotnet", Name: ".NET Core / ASP.NET",
		Endpoints: defaultEndpoints,
		Mapping: config.Mapping{
			Success: "/isSuccess", User: "/result", TokenType: "/result/type", ExpiresAt: "/result/exp",
			AccessToken: "/result/accessToken", RefreshToken: "/result/refreshToken", ErrorCode: "/errorCode",
		},
		Shape: []string{
			`validate: {"isSuccess": true, "result": {"id": 1, "type": "user", "exp": 1767225600, ...}}`,
			`tokens:   {"isSuccess": true, "result": {"accessToken": "...", "refreshToken": "..."}}`,
			`failure:  {"isSuccess": false, "errorCode": "token_reuse"}`,
		},
	},
	{Key: "express", Name: "Express.js (Node)", Endpoints: defaultEndpoints, Mapping: defaultMapping, Shape: defaultShape},
	{Key: "go", Name: "Go (Gin, Echo, etc.)", Endpoints: defaultEndpoints, Mapping: defaultMapping, Shape: defaultShape},
	{Key: "other", Name: "Other", Endpoints: defaultEndpoints, Mapping: defaultMapping, Shape: defaultShape},
}

// PresetByKey returns the preset named key.
func PresetByKey(key string) (Preset, bool) {
	for _, p := range Presets {
		if p.Key == key {
			return p, true
		}
	}
	return Preset{}, false
}
