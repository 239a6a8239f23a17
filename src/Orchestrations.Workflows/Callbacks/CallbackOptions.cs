using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// How ThingSpace reaches the app, and the credentials it must echo in every callback body.
/// <code>
/// "Callbacks": {
///   "Username": "tsp-callback", "Password": "...",              // registered with ThingSpace; echoed in each body
///   "PublicUrl": "https://host.example.com/api/callbacks/thingspace",
///   "RegisterOnStartup": true, "Services": [ "CarrierService", "DeviceService" ],
///   "MaxBodyBytes": 262144
/// }
/// </code>
/// </summary>
public sealed class CallbackOptions
{
    public const string SectionName = "Callbacks";

    [Required(ErrorMessage = "Callbacks:Username is required: ThingSpace echoes it in every callback body.")]
    public string Username { get; set; } = "";

    [Required(ErrorMessage = "Callbacks:Password is required: ThingSpace echoes it in every callback body.")]
    [MinLength(12, ErrorMessage = "Callbacks:Password must be at least 12 characters long.")]
    public string Password { get; set; } = "";

    /// <summary>The URL registered with ThingSpace; null means "do not register".</summary>
    public Uri? PublicUrl { get; set; }

    public bool RegisterOnStartup { get; set; } = true;

    public IList<string> Services { get; init; } = ["CarrierService", "DeviceService"];

    [Range(1024, 4 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 256 * 1024;
}

internal sealed class CallbackOptionsValidator : IValidateOptions<CallbackOptions>
{
    public ValidateOptionsResult Validate(string? name, CallbackOptions options)
    {
        List<string> failures = [];
        if (options.PublicUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add($"Callbacks:PublicUrl must be an absolute http(s) URL, not '{url}'.");
        }

        if (options.RegisterOnStartup && options.PublicUrl is not null && options.Services.Count == 0)
        {
            failures.Add("Callbacks:Services must name at least one ThingSpace callback service when RegisterOnStartup is true.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
