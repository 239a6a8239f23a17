using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

/// <summary>OAuth access tokens (one hour, same token while valid) and M2M sessions (20 minutes sliding).</summary>
internal sealed class AuthStore
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan SessionIdleTimeout = TimeSpan.FromMinutes(20);
    private const int MaxFailedLogins = 5;

    private readonly TimeProvider _time;
    private readonly SimulatorOptions _options;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);
    private string? _currentToken;
    private string _password;
    private int _failedLogins;

    public AuthStore(TimeProvider time, IOptions<SimulatorOptions> options)
    {
        _time = time;
        _options = options.Value;
        _password = _options.Password;
    }

    public void Reset()
    {
        lock (_sync)
        {
            _tokens.Clear();
            _sessions.Clear();
            _currentToken = null;
            _password = _options.Password;
            _failedLogins = 0;
        }
    }

    /// <summary>Tokens, sessions and the current password, as stored in the data folder.</summary>
    public AuthRecord Export()
    {
        lock (_sync)
        {
            return new AuthRecord(new(_tokens, StringComparer.Ordinal), new(_sessions, StringComparer.Ordinal), _currentToken, _password, _failedLogins);
        }
    }

    public void Import(AuthRecord record)
    {
        lock (_sync)
        {
            _tokens.Clear();
            _sessions.Clear();
            foreach (KeyValuePair<string, DateTimeOffset> pair in record.Tokens)
            {
                _tokens[pair.Key] = pair.Value;
            }

            foreach (KeyValuePair<string, DateTimeOffset> pair in record.Sessions)
            {
                _sessions[pair.Key] = pair.Value;
            }

            _currentToken = record.CurrentToken;
            _password = record.Password;
            _failedLogins = record.FailedLogins;
        }
    }

    public bool CheckClient(string key, string secret) =>
        FixedEquals(key, _options.OAuthKey) & FixedEquals(secret, _options.OAuthSecret);

    /// <summary>The current token and its remaining lifetime; mints a new one when none is valid.</summary>
    public (string Token, int ExpiresIn) IssueToken()
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_sync)
        {
            if (_currentToken is not null && _tokens.TryGetValue(_currentToken, out DateTimeOffset expires) && expires > now)
            {
                return (_currentToken, (int)Math.Ceiling((expires - now).TotalSeconds));
            }

            _currentToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            _tokens[_currentToken] = now + TokenLifetime;
            return (_currentToken, (int)TokenLifetime.TotalSeconds);
        }
    }

    /// <summary>Revokes a token (the next token request mints a new one).</summary>
    public void RevokeToken(string token)
    {
        lock (_sync)
        {
            _tokens.Remove(token);
            if (_currentToken == token)
            {
                _currentToken = null;
            }
        }
    }

    public bool IsTokenValid(string token)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_sync)
        {
            return _tokens.TryGetValue(token, out DateTimeOffset expires) && expires > now;
        }
    }

    /// <summary>Checks UWS credentials and opens a session; throws the error to answer otherwise.</summary>
    public string Login(string? username, string? password)
    {
        lock (_sync)
        {
            if (_failedLogins >= MaxFailedLogins)
            {
                throw ApiException.BadRequest(ErrorCodes.UserLocked, "The user is locked after 5 consecutive failed logins (reset the simulator to unlock).");
            }

            if (!(FixedEquals(username ?? string.Empty, _options.Username) & FixedEquals(password ?? string.Empty, _password)))
            {
                _failedLogins++;
                throw ApiException.BadRequest(ErrorCodes.InvalidCredentials, "The username or password is not correct.");
            }

            _failedLogins = 0;
            DateTimeOffset now = _time.GetUtcNow();
            foreach (string stale in _sessions.Where(p => now - p.Value > SessionIdleTimeout).Select(p => p.Key).ToList())
            {
                _sessions.Remove(stale);
            }

            string session = Guid.NewGuid().ToString();
            _sessions[session] = now;
            return session;
        }
    }

    /// <summary>Validates and touches a session token (sliding expiry); throws the documented session errors.</summary>
    public void TouchSession(string? token)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            throw ApiException.BadRequest(ErrorCodes.SessionFormat, "The VZ-M2M-Token header is missing; log in with POST /m2m/v1/session/login first.");
        }

        if (!Guid.TryParse(token, out _))
        {
            throw ApiException.BadRequest(ErrorCodes.SessionInvalid, "The VZ-M2M-Token header is not a session token (a GUID).");
        }

        DateTimeOffset now = _time.GetUtcNow();
        lock (_sync)
        {
            if (!_sessions.TryGetValue(token, out DateTimeOffset lastUsed) || now - lastUsed > SessionIdleTimeout)
            {
                _sessions.Remove(token);
                throw new ApiException(StatusCodes.Status401Unauthorized, ErrorCodes.Prefix + ErrorCodes.SessionExpired, "The session token has expired (20 minutes without use) or was logged out; log in again.");
            }

            _sessions[token] = now;
        }
    }

    public void Logout(string token)
    {
        lock (_sync)
        {
            _sessions.Remove(token);
        }
    }

    public string ResetPassword(string? oldPassword)
    {
        lock (_sync)
        {
            if (!FixedEquals(oldPassword ?? string.Empty, _password))
            {
                throw ApiException.BadRequest(ErrorCodes.InvalidCredentials, "oldPassword does not match the current password.");
            }

            _password = "Sim" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + "!";
            return _password;
        }
    }

    private static bool FixedEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}

/// <summary>The auth state as stored in the data folder (simulator credentials only; the folder is git-ignored).</summary>
internal sealed record AuthRecord(
    Dictionary<string, DateTimeOffset> Tokens,
    Dictionary<string, DateTimeOffset> Sessions,
    string? CurrentToken,
    string Password,
    int FailedLogins);
