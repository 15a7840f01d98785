# The Rack web app of the internal/appservers tests, served by Puma. It
# answers every request with the identity it believes it received, read the
# way Rack users read it: env['HTTP_X_AUTH_USER'] and friends.
require 'base64'
require 'json'
require 'rack'

NAMES = %w[
  X-Auth-User X-Auth-Token-Type X-Locale X-Refreshed-Token
  X-Auth-Assertion X-Auth-User-Truncated X-Request-Id
  X-Forwarded-For X-Real-IP Cookie Authorization
].freeze

def env_key(name) = "HTTP_#{name.upcase.tr('-', '_')}"

def decode_user(raw)
  return nil if raw.nil?
  JSON.parse(Base64.decode64(raw))
rescue StandardError
  'undecodable'
end

run(lambda do |env|
  values = NAMES.to_h { |n| [n, env[env_key(n)]] }
  middleware = env.select { |k, _| k.start_with?('HTTP_X_MIDDLEWARE_') }
  body = JSON.generate(
    software: "#{env['SERVER_SOFTWARE']} rack/#{Rack.release} ruby/#{RUBY_VERSION}",
    method: env['REQUEST_METHOD'],
    path: env['PATH_INFO'],
    readings: { 'env' => { values: values, user: decode_user(env[env_key('X-Auth-User')]), middleware: middleware } }
  )
  [200, { 'Content-Type' => 'application/json' }, [body]]
end)
