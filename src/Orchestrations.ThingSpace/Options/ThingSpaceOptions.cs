using System.ComponentModel.DataAnnotations;

namespace Orchestrations.ThingSpace;

/// <summary>
/// Settings of the ThingSpace client, section <c>ThingSpace</c>:
/// <code>
/// "ThingSpace": {
///   "BaseUrl": "https://thingspace.verizon.com/api",
///   "OAuthUrl": "https://thingspace.verizon.com/api/ts/v1/oauth2/token",
///   "AppKey": "…", "AppSecret": "…", "Username": "…", "Password": "…",
///   "AccountName": "0000123456-00001",
///   "TokenRefreshMargin": "00:01:00", "SessionIdleTimeout": "00:19:00",
///   "Resilience": { "TotalRequestTimeout": { "Timeout": "00:01:00" }, "Retry": { "MaxRetryAttempts": 3 } }
/// }
/// </code>
/// </summary>
public sealed class ThingSpaceOptions
{
    public const string SectionName = "ThingSpace";

    /// <summary>Base of every device path, e.g. <c>https://thingspace.verizon.com/api</c>.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>The full OAuth token endpoint, e.g. <c>https://thingspace.verizon.com/api/ts/v1/oauth2/token</c>.</summary>
    [Required]
    public Uri? OAuthUrl { get; set; }

    /// <summary>Application key (Key Management). Secret-like: never logged.</summary>
    [Required]
    public string AppKey { get; set; } = string.Empty;

    /// <summary>Application secret. Never logged.</summary>
    [Required]
    public string AppSecret { get; set; } = string.Empty;

    /// <summary>UWS username for the M2M session.</summary>
    [Required]
    public string Username { get; set; } = string.Empty;

    /// <summary>UWS password. Never logged.</summary>
    [Required]
    public string Password { get; set; } = string.Empty;

    /// <summary>Billing account name (keep leading zeros), used where an operation needs one and none is given.</summary>
    [Required]
    public string AccountName { get; set; } = string.Empty;

    /// <summary>The OAuth token is renewed this long before its <c>expires_in</c> ends.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:30:00")]
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Lifetime assumed for a token whose response has no <c>expires_in</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan DefaultTokenLifetime { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// A session unused for this long is renewed before the next call (ThingSpace expires it after 20 minutes of
    /// inactivity). Sessions are also renewed whenever ThingSpace reports them expired.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(19);

    /// <summary>Page size asked for by the list-devices pager (1–2000; the SDK caps <c>maxNumberOfDevices</c> at 500).</summary>
    [Range(1, 2000)]
    public int ListDevicesPageSize { get; set; } = 500;
}
