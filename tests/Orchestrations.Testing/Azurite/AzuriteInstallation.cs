using System.Diagnostics;

namespace Orchestrations.Testing.Azurite;

/// <summary>Installs the Azurite version pinned in package-lock.json with <c>npm ci</c>, once per machine at a time.</summary>
public static class AzuriteInstallation
{
    private static readonly SemaphoreSlim InProcess = new(1, 1);

    public static string ScriptPath => Path.Combine(RepositoryPaths.RepositoryRoot, "node_modules", "azurite", "dist", "src", "azurite.js");

    public static async Task<string> EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        if (File.Exists(ScriptPath))
        {
            return ScriptPath;
        }

        await InProcess.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Several test assemblies may start at once: a lock file serializes npm ci across processes.
            string lockPath = Path.Combine(Path.GetTempPath(), "orchestrations-npm-ci.lock");
            using FileStream fileLock = await AcquireAsync(lockPath, cancellationToken).ConfigureAwait(false);
            if (File.Exists(ScriptPath))
            {
                return ScriptPath;
            }

            ProcessStartInfo npm = new("npm")
            {
                WorkingDirectory = RepositoryPaths.RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
            {
                npm.ArgumentList.Add(arg);
            }

            using Process process = Process.Start(npm) ?? throw new InvalidOperationException("npm could not be started; is Node.js installed?");
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0 || !File.Exists(ScriptPath))
            {
                throw new InvalidOperationException(
                    $"'npm ci' in {RepositoryPaths.RepositoryRoot} failed with exit code {process.ExitCode}:\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
            }

            return ScriptPath;
        }
        finally
        {
            InProcess.Release();
        }
    }

    private static async Task<FileStream> AcquireAsync(string path, CancellationToken cancellationToken)
    {
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(5));
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token).ConfigureAwait(false);
            }
        }
    }
}
