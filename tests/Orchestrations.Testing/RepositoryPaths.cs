namespace Orchestrations.Testing;

/// <summary>Locates the repository root (the folder holding Orchestrations.sln) from a test's output folder.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepositoryRoot => Root.Value;

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrations.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Orchestrations.sln was not found above '{AppContext.BaseDirectory}'.");
    }
}
