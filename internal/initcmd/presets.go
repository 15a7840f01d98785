package initcmd

import "github.com/apilayer/apilayer/config"

// Preset is what apilayer init writes for one backend framework: the
// backend endpoints, the JSON Pointers into the framework's usual answers
// (backend.mapping) and its method spoofing.
type Preset struct {
	Key  string // the answer that selects it: laravel, rails, django, dotnet, express, go, other, next-api-layer
	Name string // as the menu shows it
	// Spoofing is the api.methodSpoofing strategy ("body" or "header");
	// empty leaves method spoofing off.
	Spoofing string
	// Endpoints and Mapping are written in full into the file; a zero field
	// takes the gateway's default.
	Endpoints config.Endpoints
	Mapping   config.Mapping
	// Shape is a comment written above backend.mapping: the answers the
	// mapping expects, one line per call (docs/cli.md lists them too).
	Shape []string
}

// nalMapping is next-api-layer's response shape, the gateway's default.
var nalMapping = config.Mapping{
	Success: "/success", User: "/data", TokenType: "/data/type", ExpiresAt: "/data/exp",
	AccessToken: "/data/accessToken", RefreshToken: "/data/refreshToken", ErrorCode: "/code",
}

// nalEndpoints are next-api-layer's default endpoints (validate, refresh,
// guest) and the login, register and logout its apps called.
var nalEndpoints = config.Endpoints{
	Validate: "auth/me", Refresh: "auth/refresh", Guest: "auth/guest",
	Login: "auth/login", Register: "auth/register", Logout: "auth/logout",
}

// nalShape are the answers of a backend built for next-api-layer.
var nalShape = []string{
	`validate: {"success": true, "data": {"id": 1, "type": "user", "exp": 1767225600, ...}}`,
	`login:    {"success": true, "data": {"accessToken": "...", "refreshToken": "...", "id": 1, "name": ...}}`,
	`refresh:  {"success": true, "data": {"accessToken": "...", "refreshToken": "..."}}`,
	`guest:    {"data": {"accessToken": "..."}}   (success is not required)`,
	`failure:  {"success": false, "code": "token_reuse"}   (or status 409)`,
}

// NextAPILayer is the key of the preset for a backend built for
// next-api-layer, whatever its framework.
const NextAPILayer = "next-api-layer"

// Presets are the backend frameworks in the order of the menu
// (next-api-layer's order), then next-api-layer's answers. "other" is the default, and
// next-api-layer the default of a migration from next-api-layer.
var Presets = []Preset{
	{
		Key: "laravel", Name: "Laravel (PHP)", Spoofing: "body",
		Endpoints: nalEndpoints,
		Mapping: config.Mapping{
			Success: "/success", User: "/data", TokenType: "/data/type", ExpiresAt: "/data/exp",
			AccessToken: "/access_token", RefreshToken: "/refresh_token", ErrorCode: "/error",
		},
		Shape: []string{
			`validate: an API Resource, {"data": {"id": 1, "type": "user", "exp": 1767225600, ...}}`,
			`login:    jwt-auth's respondWithToken and the user, {"access_token": "...", "refresh_token": "...", "data": {"id": 1, ...}}`,
			`refresh/guest: {"access_token": "...", "refresh_token": "...", "expires_in": 3600}`,
			`failure:  {"error": "token_reuse"}`,
		},
	},
	{
		Key: "rails", Name: "Ruby on Rails", Spoofing: "header",
		Endpoints: nalEndpoints,
		Mapping: config.Mapping{
			Success: "/success", User: "/user", TokenType: "/user/type", ExpiresAt: "/exp",
			AccessToken: "/token", RefreshToken: "/refresh_token", ErrorCode: "/error",
		},
		Shape: []string{
			`validate: {"user": {"id": 1, "type": "user", ...}, "exp": 1767225600}`,
			`login:    {"token": "...", "refresh_token": "...", "user": {"id": 1, ...}}`,
			`refresh/guest: {"token": "...", "refresh_token": "..."}`,
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
			`login:    Simple JWT's pair and the user, {"access": "...", "refresh": "...", "user": {"id": 1, ...}}`,
			`refresh/guest: Simple JWT's {"access": "...", "refresh": "..."}`,
			`failure:  Simple JWT's {"detail": "...", "code": "token_not_valid"}`,
		},
	},
	{
		Key: "dotnet", Name: ".NET Core / ASP.NET",
		Endpoints: nalEndpoints,
		Mapping: config.Mapping{
			Success: "/isSuccess", User: "/result", TokenType: "/result/type", ExpiresAt: "/result/exp",
			AccessToken: "/result/accessToken", RefreshToken: "/result/refreshToken", ErrorCode: "/errorCode",
		},
		Shape: []string{
			`validate: {"isSuccess": true, "result": {"id": 1, "type": "user", "exp": 1767225600, ...}}`,
			`login:    {"isSuccess": true, "result": {"accessToken": "...", "refreshToken": "...", "id": 1, ...}}`,
			`refresh/guest: {"isSuccess": true, "result": {"accessToken": "...", "refreshToken": "..."}}`,
			`failure:  {"isSuccess": false, "errorCode": "token_reuse"}`,
		},
	},
	{Key: "express", Name: "Express.js (Node)", Endpoints: nalEndpoints, Mapping: nalMapping, Shape: nalShape},
	{Key: "go", Name: "Go (Gin, Echo, etc.)", Endpoints: nalEndpoints, Mapping: nalMapping, Shape: nalShape},
	{Key: "other", Name: "Other", Endpoints: nalEndpoints, Mapping: nalMapping, Shape: nalShape},
	{
		Key: NextAPILayer, Name: "A backend built for next-api-layer, any framework ({success, data: {accessToken}})",
		Endpoints: nalEndpoints, Mapping: nalMapping, Shape: nalShape,
	},
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
