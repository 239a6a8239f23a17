namespace Orchestrations.Durable;

/// <summary>
/// Gives an orchestrator or activity a registered name other than its class name.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class DurableTaskAttribute(string? name = null) : Attribute
{
    /// <summary>The registered name, or null for the class name.</summary>
    public string? Name { get; } = name;

    /// <summary>The name a task type is registered under: the attribute's name, or the class name.</summary>
    public static string GetName(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        DurableTaskAttribute? attribute = (DurableTaskAttribute?)GetCustomAttribute(type, typeof(DurableTaskAttribute));
        return string.IsNullOrWhiteSpace(attribute?.Name) ? type.Name : attribute.Name;
    }
}
