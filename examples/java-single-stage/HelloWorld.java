public class HelloWorld {
    public static void main(String[] args) {
        System.out.println("Hello from a single-stage image: compiler included.");
    }
}
