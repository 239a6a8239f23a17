using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// How ThingSpace reaches the app, and the credentials it must echo in every callback body.
/// <code>
/// "Callbacks": {
///   "Username": "tsp-callback", "Password": "...",              // registered with ThingSpace; echoed in each body
///   "PublicUrl": "https://host.example.com/api/callbacks/thingspace",
///   "RegisterOnStartup": true, "Services": [ "CarrierService", "DeviceService" ],
///   "MaxBodyBytes": 262144,
///   "Retention": "4.00:00:00", "CleanupInterval": "01:00:00",  // stored callbacks and routes older than Retention are removed
///   "ReleaseInterval": "00:00:30"                                // messages their orchestration has read are removed
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

    /// <summary>
    /// How long stored callbacks and request routes are kept (from when they arrived or were recorded). Must be longer
    /// than every provisioning deadline (<c>Provisioning:ActivationDeadline</c>, 24 hours by default), or a waiting job
    /// could lose its callbacks; the default keeps them three days more than that default.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(4);

    /// <summary>How often expired callbacks are removed.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often the messages of requests whose orchestration has read them (<see cref="CallbackInbox.MarkReadAsync"/>)
    /// are removed, so that the inbox holds only requests in flight.
    /// </summary>
    public TimeSpan ReleaseInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Checks <see cref="CallbackOptions"/> at start-up. <c>Callbacks:PublicUrl</c> must be <c>https</c> outside Development
/// (ThingSpace would send the callback password in clear text over <c>http</c>); a loopback <c>http</c> URL (a local
/// simulator, tests) is allowed in every environment, as it never leaves the machine. <c>Callbacks:Retention</c> must
/// outlast every provisioning deadline.
/// </summary>
internal sealed class CallbackOptionsValidator(IHostEnvironment? environment = null, IOptions<Provisioning.ProvisioningOptions>? provisioning = null)
    : IValidateOptions<CallbackOptions>
{
    public ValidateOptionsResult Validate(string? name, CallbackOptions options)
    {
        List<string> failures = [];
        if (options.PublicUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add($"Callbacks:PublicUrl must be an absolute http(s) URL, not '{url}'.");
        }
        else if (options.PublicUrl is { } plain && plain.Scheme == Uri.UriSchemeHttp && !plain.IsLoopback && environment?.IsDevelopment() != true)
        {
            failures.Add(
                $"Callbacks:PublicUrl must use https outside Development (ThingSpace sends the callback password in every body), not '{plain.GetLeftPart(UriPartial.Authority)}'.");
        }

        if (options.Retention <= TimeSpan.Zero)
        {
            failures.Add("Callbacks:Retention must be positive.");
        }
        else if (Deadlines() is { } deadlines)
        {
            TimeSpan longest = new[] { deadlines.AvailabilityDeadline, deadlines.UploadDeadline, deadlines.ActivationDeadline }.Max();
            if (options.Retention <= longest)
            {
                failures.Add($"Callbacks:Retention ({options.Retention}) must be longer than the longest provisioning deadline ({longest}, Provisioning:ActivationDeadline/UploadDeadline/AvailabilityDeadline).");
            }
        }

        if (options.CleanupInterval <= TimeSpan.Zero)
        {
            failures.Add("Callbacks:CleanupInterval must be positive.");
        }

        if (options.ReleaseInterval <= TimeSpan.Zero)
        {
            failures.Add("Callbacks:ReleaseInterval must be positive.");
        }

        if (options.RegisterOnStartup && options.PublicUrl is not null && options.Services.Count == 0)
        {
            failures.Add("Callbacks:Services must name at least one ThingSpace callback service when RegisterOnStartup is true.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private Provisioning.ProvisioningOptions? Deadlines()
    {
        try
        {
            return provisioning?.Value;
        }
        catch (OptionsValidationException)
        {
            // Invalid provisioning settings fail the start with their own messages.
            return null;
        }
    }
}
