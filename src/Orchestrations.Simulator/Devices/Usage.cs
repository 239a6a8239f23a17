using System.Text;

namespace Orchestrations.Simulator;

/// <summary>Deterministic synthetic daily usage: the same seed, device and day always give the same numbers.</summary>
internal static class Usage
{
    public static (long Bytes, int Sms) ForDay(int seed, string deviceKey, DateOnly day)
    {
        ulong hash = Fnv1a($"{seed}|{deviceKey}|{day:yyyy-MM-dd}");
        long bytes = 1_000_000 + (long)(hash % 50_000_000UL);
        int sms = (int)((hash >> 32) % 40UL);
        return (bytes, sms);
    }

    /// <summary>Days in [from, to] on which the device was in service (from its service start up to today).</summary>
    public static IEnumerable<DateOnly> ActiveDays(SimDevice device, DateOnly from, DateOnly to, DateOnly today)
    {
        if (device.ActiveSince is not { } since || (device.State != DeviceStates.Active && device.State != DeviceStates.Suspend))
        {
            yield break;
        }

        DateOnly start = DateOnly.FromDateTime(since.UtcDateTime);
        DateOnly first = from > start ? from : start;
        DateOnly last = to < today ? to : today;
        for (DateOnly day = first; day <= last; day = day.AddDays(1))
        {
            yield return day;
        }
    }

    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        // Final avalanche so that neighbouring days differ in the high bits too.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }
}

/// <summary>The usage faults: devices whose usage-history requests and aggregate usage callbacks keep failing (<c>FailUsageDevices</c>).</summary>
internal static class UsageFaults
{
    public const string AggregateFailure = "REQUEST_FAILED. Usage is unavailable for this device (injected by the simulator).";

    public static bool IsFailing(IReadOnlyCollection<string> failing, SimDevice device) =>
        failing.Count > 0 && device.Ids.Values.Any(id => failing.Contains(id, StringComparer.OrdinalIgnoreCase));

    public static void ThrowIfFailing(HttpContext context, SimDevice device)
    {
        List<string> failing = context.RequestServices.GetRequiredService<FaultState>().Current.FailUsageDevices;
        if (IsFailing(failing, device))
        {
            throw new ApiException(StatusCodes.Status500InternalServerError, ErrorCodes.Prefix + ErrorCodes.UnexpectedError, "Usage history is unavailable for this device (injected by the simulator).");
        }
    }
}
