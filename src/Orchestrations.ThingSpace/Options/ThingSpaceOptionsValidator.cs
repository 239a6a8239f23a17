using Microsoft.Extensions.Options;

namespace Orchestrations.ThingSpace;

/// <summary>Single-field rules from the DataAnnotations (generated).</summary>
[OptionsValidator]
internal sealed partial class ThingSpaceOptionsDataAnnotationsValidator : IValidateOptions<ThingSpaceOptions>;

/// <summary>Cross-field and URL rules, with messages that name the setting.</summary>
internal sealed class ThingSpaceOptionsValidator : IValidateOptions<ThingSpaceOptions>
{
    private readonly ThingSpaceOptionsDataAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, ThingSpaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptionsResultBuilder builder = new();
        builder.AddResult(_annotations.Validate(name, options));

        CheckUrl(builder, options.BaseUrl, nameof(ThingSpaceOptions.BaseUrl));
        CheckUrl(builder, options.OAuthUrl, nameof(ThingSpaceOptions.OAuthUrl));
        CheckText(builder, options.AppKey, nameof(ThingSpaceOptions.AppKey));
        CheckText(builder, options.AppSecret, nameof(ThingSpaceOptions.AppSecret));
        CheckText(builder, options.Username, nameof(ThingSpaceOptions.Username));
        CheckText(builder, options.Password, nameof(ThingSpaceOptions.Password));
        CheckText(builder, options.AccountName, nameof(ThingSpaceOptions.AccountName));

        if (options.AppKey.Contains(':', StringComparison.Ordinal))
        {
            builder.AddError("must not contain ':' (it is joined to the secret with a colon for Basic auth).", "ThingSpace:AppKey");
        }

        if (options.TokenRefreshMargin >= options.DefaultTokenLifetime)
        {
            builder.AddError(
                $"TokenRefreshMargin ({options.TokenRefreshMargin}) must be shorter than DefaultTokenLifetime ({options.DefaultTokenLifetime}).",
                "ThingSpace:TokenRefreshMargin");
        }

        if (options.SessionIdleTimeout > TimeSpan.FromMinutes(20))
        {
            builder.AddError(
                $"SessionIdleTimeout ({options.SessionIdleTimeout}) must not exceed ThingSpace's 20-minute session inactivity limit.",
                "ThingSpace:SessionIdleTimeout");
        }

        return builder.Build();
    }

    private static void CheckUrl(ValidateOptionsResultBuilder builder, Uri? url, string setting)
    {
        if (url is null)
        {
            return; // reported by [Required]
        }

        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            builder.AddError($"must be an absolute http(s) URL, not '{url}'.", $"ThingSpace:{setting}");
        }
        else if (!string.IsNullOrEmpty(url.UserInfo))
        {
            builder.AddError("must not carry credentials in the URL.", $"ThingSpace:{setting}");
        }
    }

    private static void CheckText(ValidateOptionsResultBuilder builder, string value, string setting)
    {
        if (value.Length > 0 && string.IsNullOrWhiteSpace(value))
        {
            builder.AddError("must not be blank.", $"ThingSpace:{setting}");
        }
    }
}
