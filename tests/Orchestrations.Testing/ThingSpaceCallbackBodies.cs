using System.Text.Json;

namespace Orchestrations.Testing;

/// <summary>JSON bodies of ThingSpace callbacks as its listener receives them, with the credentials it echoes.</summary>
public static class ThingSpaceCallbackBodies
{
    /// <summary>A per-device activation result: the device's IMEI, its new MDN and plan; <paramref name="count"/> is ThingSpace's retry count.</summary>
    public static string DeviceActivated(string requestId, string imei, string username, string password, int count = 1) =>
        JsonSerializer.Serialize(new
        {
            username,
            password,
            requestId,
            deviceIds = new[] { new { id = imei, kind = "imei" } },
            deviceResponse = new { activateResponse = new { deviceIds = new[] { new { id = "5551234567", kind = "mdn" } }, servicePlan = "m2m4G" } },
            status = "Success",
            callbackCount = count,
            maxCallbackThreshold = 4,
        });

    /// <summary>The "Request Completed Processing" message that ends a request.</summary>
    public static string RequestCompleted(string requestId, string username, string password) =>
        JsonSerializer.Serialize(new
        {
            username,
            password,
            requestId,
            deviceIds = Array.Empty<object>(),
            comment = "Request Completed Processing",
            status = "Success",
            callbackCount = 1,
            maxCallbackThreshold = 4,
        });
}
