using System.Diagnostics;

namespace Orchestrations.Testing;

/// <summary>Stops a child process the polite way first: SIGTERM, a grace period, then SIGKILL of the whole tree.</summary>
public static class ProcessTermination
{
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (HasExited(process))
        {
            return;
        }

        SendTerm(process.Id);
        using CancellationTokenSource timeout = new(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            return; // exited in between
        }

        using CancellationTokenSource killTimeout = new(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(killTimeout.Token).ConfigureAwait(false);
    }

    /// <summary>Kills at once (a crash, for crash tests).</summary>
    public static async Task KillAsync(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (HasExited(process))
        {
            return;
        }

        process.Kill(entireProcessTree: true);
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void SendTerm(int pid)
    {
        // .NET's Process.Kill sends SIGKILL; SIGTERM goes through the kill command, always present on Linux.
        ProcessStartInfo kill = new("kill") { UseShellExecute = false, RedirectStandardError = true };
        kill.ArgumentList.Add("-TERM");
        kill.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using Process? p = Process.Start(kill);
        p?.WaitForExit(5000);
    }
}
