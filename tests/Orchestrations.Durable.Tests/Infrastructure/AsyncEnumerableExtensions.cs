namespace Orchestrations.Durable.Tests.Infrastructure;

internal static class AsyncEnumerableExtensions
{
    public static async Task<T?> FirstAsync<T>(this IAsyncEnumerable<T> source)
    {
        await foreach (T item in source)
        {
            return item;
        }

        return default;
    }

    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source)
    {
        List<T> items = [];
        await foreach (T item in source)
        {
            items.Add(item);
        }

        return items;
    }
}
